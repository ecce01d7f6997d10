"""Running the migrate flow from a terminal: a throwaway local Prefect server when none is configured,
and approval at the prompt — through the same pause/resume API the Prefect UI uses.

``local_server`` must run before Prefect reads its settings (it sets ``PREFECT_API_URL``), so it
imports nothing from Prefect itself.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from dualpath.errors import DualpathError, TargetRefused

Ask = Callable[[str], dict[str, Any]]  # shown the plan Markdown, returns the ApprovalInput fields


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def local_server(home: Path | None = None, echo: Callable[[str], None] = print) -> Iterator[str]:
    """Use ``PREFECT_API_URL`` when set; otherwise start a throwaway server (see start_server)."""
    if os.environ.get("PREFECT_API_URL"):
        yield os.environ["PREFECT_API_URL"]
        return
    with start_server(home, echo) as url:
        yield url


@contextlib.contextmanager
def start_server(home: Path | None = None, echo: Callable[[str], None] = print) -> Iterator[str]:
    """``prefect server start`` on a free loopback port (its database in PREFECT_HOME, a temp folder by
    default); the environment points at it until it is stopped, then is restored."""
    port = free_port()
    home = home or Path(tempfile.mkdtemp(prefix="dualpath-prefect-"))
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_API_URL": f"http://127.0.0.1:{port}/api"}
    home.mkdir(parents=True, exist_ok=True)
    echo(f"starting a local Prefect server on 127.0.0.1:{port} (PREFECT_HOME={home})")
    log = (home / "server.log").open("wb")
    server = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                               "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    saved = {k: os.environ.get(k) for k in ("PREFECT_API_URL", "PREFECT_HOME", "PREFECT_SERVER_ANALYTICS_ENABLED")}
    try:
        wait_healthy(f"http://127.0.0.1:{port}/api/health", server, home / "server.log")
        os.environ.update({k: env[k] for k in saved})
        yield env["PREFECT_API_URL"]
    finally:
        server.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            server.wait(timeout=15)
        if server.poll() is None:
            server.kill()
        log.close()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def wait_healthy(url: str, server: subprocess.Popen[bytes], log: Path, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise DualpathError(f"the Prefect server exited with {server.returncode}", where=str(log),
                                hint="see the server log")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return
        time.sleep(0.3)
    raise DualpathError(f"the Prefect server did not answer at {url} within {timeout_s:.0f} s", where=str(log),
                        hint="see the server log")


def run_flow(params: dict[str, Any], ask: Ask | None, echo: Callable[[str], None] = print) -> dict[str, Any]:
    """Run ``migrate`` here; when it pauses for approval, ``ask`` decides at the terminal and the run
    is resumed with that input (the Prefect UI could resume it just as well)."""
    from dualpath.flows.migrate import migrate

    name = f"migrate-{params['env']}-{uuid.uuid4().hex[:6]}"
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = migrate.with_options(flow_run_name=name)(**params)
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc

    # the caller's context goes along: Prefect settings entered with temporary_settings (the API URL among
    # them) live in context variables, and a bare thread would fall back to those read at import time
    worker = threading.Thread(target=contextvars.copy_context().run, args=(target,), name="dualpath-migrate",
                              daemon=True)
    worker.start()
    answered: set[str] = set()
    while worker.is_alive():
        worker.join(0.5)
        if ask is not None and worker.is_alive():
            _answer_pause(name, ask, answered, echo)
    drain_prefect_workers()
    if "error" in box:
        raise box["error"]
    result = dict(box["result"])
    if result.get("refused"):  # rejected, not approved, or the window closed: the run ended, nothing failed
        raise TargetRefused(str(result["refused"]), where=f"environment {params['env']}",
                            hint=f"see the report ({result.get('report') or 'the run artifacts'}); run again "
                                 "once the approver's concerns are addressed or in the next window")
    return result


def drain_prefect_workers() -> None:
    """Send the logs and events still queued while the server is up: otherwise they retry at exit
    against a server that is gone, and the process hangs for a minute or more."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for service in (APILogWorker, EventsWorker):
        with contextlib.suppress(Exception):
            service.drain_all(timeout=10)


@contextlib.contextmanager
def process_workers(env: dict[str, str], folder: Path, count: int, name: str,
                    limit: int | None = None) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``count`` Prefect process workers on the ``dualpath-process`` pool, each in a process group of its own
    (its flow runs are its children), logging to ``folder/worker<n>.log``; stopped (TERM, then KILL) on exit."""
    started: list[subprocess.Popen[bytes]] = []
    for n in range(count):
        command = ["prefect", "worker", "start", "--pool", "dualpath-process", "--name", f"{name}-{n}",
                   *(["--limit", str(limit)] if limit else [])]
        with (folder / f"worker{n}.log").open("wb") as sink:
            started.append(subprocess.Popen(command, cwd=folder, env=env, stdout=sink, stderr=subprocess.STDOUT,
                                            start_new_session=True))
    try:
        yield started
    finally:
        for worker in started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(worker.pid, signal.SIGTERM)
        for worker in started:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                worker.wait(timeout=10)


def _answer_pause(name: str, ask: Ask, answered: set[str], echo: Callable[[str], None]) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName
    from prefect.flow_runs import resume_flow_run
    from prefect.input.actions import read_flow_run_input
    from prefect.input.run_input import keyset_from_paused_state

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[name])))
    run = runs[0] if runs else None
    if run is None or run.state is None or not run.state.is_paused():
        return
    state_key = f"{run.id}:{run.state.id}"
    if state_key in answered:
        return
    try:  # the form is saved right after the pause: until its description is there, wait
        description = read_flow_run_input(keyset_from_paused_state(run.state)["description"], flow_run_id=run.id)
    except Exception:
        description = None
    if not description:
        return
    answered.add(state_key)
    from dualpath.flows.links import run_url

    url = run_url(str(run.id))
    echo(f"the run is paused for a decision{f' (also in the UI: {url})' if url else ''}")
    resume_flow_run(run.id, run_input=ask(str(description)))
