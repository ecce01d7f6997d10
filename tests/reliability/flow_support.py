"""Shared by the Prefect reliability scenarios: a private Prefect server that can be killed and started
again on the same port with the same database, a migrate flow run in a subprocess, and readers of what
the server stored about a run (state, logs, artifacts, parameters)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class PrefectServer:
    """``prefect server start`` with its own PREFECT_HOME (and so its own SQLite file) and port."""

    home: Path
    port: int = 0
    process: subprocess.Popen[bytes] | None = None
    starts: list[float] = field(default_factory=list)  # seconds each start took to become healthy

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def database(self) -> Path:
        return self.home / "prefect.db"

    def env(self) -> dict[str, str]:
        return {**os.environ, "PREFECT_HOME": str(self.home), "PREFECT_API_URL": self.url,
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}

    def start(self) -> None:
        from dualpath.flows.local import free_port, wait_healthy

        self.port = self.port or free_port()
        self.home.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        with (self.home / "server.log").open("ab") as log:
            self.process = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host",
                                             "127.0.0.1", "--port", str(self.port)], env=self.env(), stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        wait_healthy(f"{self.url}/health", self.process, self.home / "server.log", timeout_s=120)
        self.starts.append(time.monotonic() - started)

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        """Stop the server and every process it started (uvicorn, services), and wait until the port is free."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None


_SHARED: list[PrefectServer] = []


@pytest.fixture(scope="session")
def shared_prefect(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectServer]:
    """One server per test process for the scenarios that do not kill it: a Prefect server takes 10 s or more to
    start. Each module that imports this fixture gets its own copy of it, so the server is cached here and shared;
    the first copy torn down at the end of the session stops it."""
    if not _SHARED:
        server = PrefectServer(tmp_path_factory.mktemp("prefect-shared"))
        try:
            server.start()
        except BaseException:
            server.stop()
            raise
        _SHARED.append(server)
    try:
        yield _SHARED[0]
    finally:
        _SHARED[0].stop()


@contextlib.contextmanager
def pointed_at(server: PrefectServer) -> Iterator[PrefectServer]:
    """This process's Prefect client, and commands that read PREFECT_API_URL (``dualpath run``), use ``server``."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    saved = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = server.url
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.url}):
            yield server
            from dualpath.flows.local import drain_prefect_workers

            drain_prefect_workers()
    finally:
        if saved is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = saved


@dataclass
class BrokenSlack:
    """A Slack API endpoint that is down in one of three ways; ``hits`` counts what reached it."""

    mode: str  # "refuse": nothing listens; "error": HTTP 500 to everything; "hang": accepts, never answers
    port: int = 0
    hits: int = 0
    _held: list[socket.socket] = field(default_factory=list)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"


@contextlib.contextmanager
def broken_slack(mode: str) -> Iterator[BrokenSlack]:
    from dualpath.flows.local import free_port

    slack = BrokenSlack(mode)
    if mode == "refuse":
        slack.port = free_port()  # closed again: connections are refused
        yield slack
        return
    listener = socket.create_server(("127.0.0.1", 0), backlog=64)
    slack.port = listener.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            slack.hits += 1
            if mode == "hang":
                slack._held.append(conn)  # read nothing, answer nothing, keep it open
                continue
            with conn, contextlib.suppress(OSError):
                read_request(conn)
                conn.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n"
                             b"Content-Length: 5\r\nConnection: close\r\n\r\noops!")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield slack
    finally:
        stop.set()
        thread.join(5)
        listener.close()
        for conn in slack._held:
            conn.close()


def read_request(conn: socket.socket) -> bytes:
    """A whole HTTP request (headers and body): answering before it is read would reset the connection."""
    conn.settimeout(60)  # trips on a client that hangs mid-request only, like the client's 30 s timeout
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def start_flow(server: PrefectServer, name: str, params: dict[str, Any], output: Path,
               extra_env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """``migrate(**params)`` as flow run ``name`` in a new Python process reporting to ``server``;
    its stdout and stderr go to ``output``."""
    code = ("from dualpath.flows.migrate import migrate\n"
            f"result = migrate.with_options(flow_run_name={name!r})(**{params!r})\n"
            "print('OUTCOME', result['outcome'], flush=True)\n")
    env = {**os.environ, "PREFECT_API_URL": server.url, "PREFECT_HOME": str(output.parent / "client-home"),
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", **(extra_env or {})}
    with output.open("wb") as sink:
        return subprocess.Popen([sys.executable, "-c", code], env=env, cwd=ROOT, stdout=sink,
                                stderr=subprocess.STDOUT, start_new_session=True)


def read_run(name: str) -> Any:
    """The flow run named ``name`` (None until it exists)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[name])))
    return runs[0] if runs else None


def wait_paused(name: str, process: subprocess.Popen[bytes], output: Path, timeout_s: float = 180) -> Any:
    """The run once it is Paused with its approval form saved (what the UI needs to show it)."""
    from prefect.input.actions import read_flow_run_input
    from prefect.input.run_input import keyset_from_paused_state

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the flow process exited with {process.returncode} before pausing:\n"
                                 + output.read_text(errors="replace")[-3000:])
        run = read_run(name)
        if run is not None and run.state is not None and run.state.is_paused():
            keyset = keyset_from_paused_state(run.state)
            if read_flow_run_input(keyset["schema"], flow_run_id=run.id) is not None:
                return run
        time.sleep(0.5)
    raise AssertionError(f"flow run {name} never paused for approval within {timeout_s:.0f} s:\n"
                         + output.read_text(errors="replace")[-3000:])


def finish(process: subprocess.Popen[bytes], output: Path, timeout_s: float = 240) -> str:
    """Wait for the flow process; its output (the test fails with it when the process hangs)."""
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        raise AssertionError(f"the flow process did not finish within {timeout_s:.0f} s:\n"
                             + output.read_text(errors="replace")[-3000:]) from None
    return output.read_text(errors="replace")


def run_logs(run_id: str | UUID) -> list[str]:
    """Every log line the server has stored for the run, oldest first (page by page)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.client.schemas.sorting import LogSort

    page, messages = 200, []
    log_filter = LogFilter(flow_run_id=LogFilterFlowRunId(any_=[UUID(str(run_id))]))
    with get_client(sync_client=True) as client:
        for offset in range(0, 1_000_000, page):
            batch = client.read_logs(log_filter=log_filter, limit=page, offset=offset, sort=LogSort.TIMESTAMP_ASC)
            messages += [entry.message for entry in batch]
            if len(batch) < page:
                break
    return messages


CLOSING_LINE = "Finished in state"  # the flow engine's last log line for a run


def wait_until_stored(run_ids: Sequence[str | UUID] = (), run_names: Sequence[str] = (), prefix: str | None = None,
                      since: datetime | None = None, timeout_s: float = 300) -> None:
    """Until the server has written what it was sent: the closing log line of each run in ``run_ids``, of
    the runs named ``run_names`` and of each run named ``prefix``... (at least one) started after ``since``
    (the flow engine's "Finished in state", sent last), and a marker event emitted after everything else
    (the server persists events in the background, in the order received; this process's events share one
    connection with the marker). ``drain_prefect_workers`` alone gives up after 10 s: the deadline here
    only trips on a server that never stores them."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, FlowRunFilterStartTime
    from prefect.events import emit_event
    from prefect.events.filters import EventFilter, EventResourceFilter

    from dualpath.flows.local import drain_prefect_workers

    marker = f"dualpath.test.stored-marker.{uuid.uuid4().hex}"
    emit_event("dualpath.test.stored-marker", resource={"prefect.resource.id": marker})
    drain_prefect_workers()
    wanted_ids = {str(i) for i in run_ids}
    deadline = time.monotonic() + timeout_s
    while True:
        with get_client(sync_client=True) as client:
            runs = list(client.read_flow_runs(flow_run_filter=FlowRunFilter(
                id=FlowRunFilterId(any_=[UUID(i) for i in wanted_ids])))) if wanted_ids else []
            if run_names or prefix:
                started = FlowRunFilterStartTime(after_=since) if since is not None else None
                runs += [r for r in client.read_flow_runs(flow_run_filter=FlowRunFilter(start_time=started))
                         if r.name in run_names or (prefix is not None and r.name.startswith(prefix))]
            missing = sorted(wanted_ids - {str(r.id) for r in runs}) + sorted(set(run_names) - {r.name for r in runs})
            missing += [f"the closing line of {r.name}" for r in runs
                        if not any(m.startswith(CLOSING_LINE) for m in run_logs(r.id))]
            if prefix is not None and not any(r.name.startswith(prefix) for r in runs):
                missing.append(f"a run named {prefix}...")
            if not client.read_events(EventFilter(resource=EventResourceFilter(id=[marker])), limit=1).events:
                missing.append("the marker event")
        if not missing:
            return
        assert time.monotonic() < deadline, f"the Prefect server has not stored: {missing}"
        time.sleep(0.5)


def run_artifacts(run_id: str | UUID) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:
        return list(client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[UUID(str(run_id))]))))


def everything_stored() -> dict[str, str]:
    """What the server holds about every flow run, read through the API page by page: each run's name,
    parameters and state message, every log line, every artifact (key, description, data)."""
    from prefect.client.orchestration import get_client

    page = 200
    stored: dict[str, str] = {}
    with get_client(sync_client=True) as client:
        for offset in range(0, 100_000, page):
            runs = client.read_flow_runs(limit=page, offset=offset)
            for run in runs:
                stored[f"flow run {run.name} (parameters, state)"] = (
                    f"{run.name}\n{run.parameters!r}\n{run.state.message if run.state else ''}")
            if len(runs) < page:
                break
        logs: list[str] = []
        for offset in range(0, 1_000_000, page):
            batch = client.read_logs(limit=page, offset=offset)
            logs += [f"{entry.name}: {entry.message}" for entry in batch]
            if len(batch) < page:
                break
        stored["every Prefect log line"] = "\n".join(logs)
        for offset in range(0, 100_000, page):
            artifacts = client.read_artifacts(limit=page, offset=offset)
            for artifact in artifacts:
                stored[f"Prefect artifact {artifact.key or artifact.id}"] = (
                    f"{artifact.description}\n{artifact.data}")
            if len(artifacts) < page:
                break
    return stored
