"""fan_out="deployments": one rollout shared by several worker processes of a process work pool, against a
Prefect server backed by PostgreSQL (as production runs it: asyncpg), each tenant a child flow run of the
tenant-apply deployment. A worker SIGKILLed while a tenant's change runs leaves that child Crashed (Prefect's
heartbeats and the automation the parent creates), the parent runs the tenant again on a live worker, and
the tenant's history holds each change exactly once, as applied, with nothing left half-recorded.

No sleep races a clock: the kill happens while the tenant's change provably waits on an advisory lock this
test holds (pg_locks says so), and everything after it waits for states, not for time."""

from __future__ import annotations

import contextlib
import contextvars
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dualpath.flows.local import process_workers
from tests.e2e.conftest import PG_SERVER, versions, write_config
from tests.integration.dbs import require_server

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
GATE = 7261  # the advisory lock the gated change takes: held by the test in one tenant's database only
WORKERS = 3


def _admin() -> Any:
    import psycopg

    return psycopg.connect(PG_SERVER.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)


@contextlib.contextmanager
def prefect_on_postgres(home: Path) -> Iterator[str]:
    """``prefect server start`` on a database of its own (created here, dropped after)."""
    from dualpath.flows.local import start_server

    database = f"prefect_fanout_{os.getpid()}_{secrets.token_hex(3)}"
    with _admin() as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    url = PG_SERVER.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{database}"
    keys = ("PREFECT_SERVER_DATABASE_CONNECTION_URL", "PREFECT_API_DATABASE_CONNECTION_URL")
    try:
        os.environ.update(dict.fromkeys(keys, url))  # start_server hands os.environ to the server
        with start_server(home, echo=lambda _line: None) as api:
            for key in keys:
                os.environ.pop(key, None)
            yield api
    finally:
        for key in keys:
            os.environ.pop(key, None)
        with _admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def cli(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A PostgreSQL-backed server with the process pool, the per-tenant deployments deployed the documented
    way, and the environment workers and the parent share (one result storage folder)."""
    require_server("postgresql")
    from prefect.settings import PREFECT_API_URL, PREFECT_RESULTS_LOCAL_STORAGE_PATH, temporary_settings

    home = tmp_path_factory.mktemp("prefect-pg")
    results = home / "results"
    with prefect_on_postgres(home) as api:
        env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "PREFECT_API_URL": api,
               "PREFECT_RESULTS_LOCAL_STORAGE_PATH": str(results), "PREFECT_WORKER_QUERY_SECONDS": "1",
               "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DUALPATH_HOME": str(ROOT)}
        made = cli(["prefect", "work-pool", "create", "dualpath-process", "--type", "process"], env)
        assert made.returncode == 0, made.stdout + made.stderr
        deployed = cli(["prefect", "--no-prompt", "deploy", "--name", "tenant-apply", "--name", "tenant-rollback"],
                       env)
        assert deployed.returncode == 0, deployed.stdout[-3000:] + deployed.stderr[-3000:]
        with temporary_settings(updates={PREFECT_API_URL: api, PREFECT_RESULTS_LOCAL_STORAGE_PATH: results}):
            from dualpath.flows.silence import ensure_zombie_automation

            # shorter than the default silence, still four missed heartbeats (every 30 s): the parent leaves an
            # existing automation alone, as it would an operator's
            assert ensure_zombie_automation(silence_s=75)
            yield env
            from dualpath.flows.local import drain_prefect_workers

            drain_prefect_workers()


def workers(env: dict[str, str], folder: Path, count: int = WORKERS) -> Any:
    return process_workers(env, folder, count, "fanout")


def migrations(folder: Path, second: str) -> Path:
    path = folder / "migrations"
    path.mkdir()
    (path / "V1__create_items.sql").write_text("CREATE TABLE items (id bigint PRIMARY KEY);\n")
    (path / "U1__create_items.sql").write_text("DROP TABLE items;\n")
    (path / "V2__add_item_label.sql").write_text(second)
    (path / "U2__add_item_label.sql").write_text("ALTER TABLE items DROP COLUMN label;\n")
    return path


def in_thread(params: dict[str, Any]) -> tuple[threading.Thread, dict[str, Any]]:
    """The parent migrate flow, run here (its children run on the workers)."""
    from dualpath.flows.migrate import migrate

    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = migrate(**params)
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=contextvars.copy_context().run, args=(target,), daemon=True)
    thread.start()
    return thread, box


def children(tenant: str) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags
    from prefect.client.schemas.sorting import FlowRunSort

    with get_client(sync_client=True) as client:
        tagged = FlowRunFilter(tags=FlowRunFilterTags(all_=[f"tenant:{tenant}"]))
        return list(client.read_flow_runs(flow_run_filter=tagged, sort=FlowRunSort.START_TIME_ASC))


def wait_for(what: str, check: Any, thread: threading.Thread, logs: Path, timeout_s: float = 600) -> Any:
    """``check()`` once it is truthy; the workers' logs in the failure when it never is (a bound, not a race)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        assert thread.is_alive(), f"the parent flow ended before {what}"
        time.sleep(0.5)
    tails = "\n".join(p.read_text(errors="replace")[-1500:] for p in sorted(logs.glob("worker*.log")))
    raise AssertionError(f"{what}: not within {timeout_s:.0f} s\n{tails}")


def worker_of(pid: int, started: list[subprocess.Popen[bytes]]) -> subprocess.Popen[bytes]:
    """The worker that started process ``pid`` (its ancestor)."""
    ours = {w.pid: w for w in started}
    while pid > 1:
        if pid in ours:
            return ours[pid]
        pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    raise AssertionError("the flow run was not started by one of the test's workers")


def history_of(url: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    from sqlalchemy import select

    from dualpath.engines import open_engine
    from dualpath.history.tables import history_table, statement_journal_table

    with open_engine(url).connect() as conn:
        rows = [dict(r) for r in conn.execute(select(history_table)).mappings()]
        journal = [dict(r) for r in conn.execute(select(statement_journal_table)).mappings()]
    return rows, journal


def test_a_worker_killed_mid_tenant_crashes_its_child_and_the_tenant_is_applied_once(
        pool: dict[str, str], pg_tenants: dict[str, str], tmp_path: Path) -> None:
    from dualpath.engines import open_engine

    gated = migrations(tmp_path, f"SELECT pg_advisory_xact_lock({GATE});\nALTER TABLE items ADD COLUMN label text;\n")
    # the gated change waits on the test's lock as long as it takes (a lock timeout would retry it instead)
    config = write_config(tmp_path, pg_tenants, extra="[environments.e2e.safety]\nlock_timeout_ms = 900000\n")
    config.write_text(config.read_text().replace(config.read_text().splitlines()[0], f'migrations = "{gated}"'))
    import psycopg

    # tenant b's database: only b's change waits
    holder = psycopg.connect(pg_tenants["b"].replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
    holder.execute(f"SELECT pg_advisory_lock({GATE})")

    with workers(pool, tmp_path) as started:
        thread, box = in_thread({"env": "e2e", "config": str(config), "approve": True, "report_dir": str(tmp_path),
                                 "fan_out": "deployments"})

        def waiting() -> bool:
            row = holder.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s "
                                 "AND NOT granted", (GATE,)).fetchone()
            return bool(row and row[0])

        wait_for("tenant b's change waiting on the gate", waiting, thread, tmp_path)
        first = wait_for("tenant b's child run with its process id", lambda: [
            r for r in children("b") if r.state.is_running() and r.infrastructure_pid], thread, tmp_path)[0]
        pid = int(str(first.infrastructure_pid).rsplit(":", 1)[-1])
        victim = worker_of(pid, started)
        # the machine dies mid-change: the flow run (Prefect starts it in a session of its own) and its worker
        os.killpg(pid, signal.SIGKILL)
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait(timeout=30)
        holder.execute(f"SELECT pg_advisory_unlock({GATE})")
        holder.close()
        thread.join(timeout=900)
        assert not thread.is_alive(), "the parent flow did not end"

    assert "error" not in box, repr(box.get("error"))
    result = box["result"]
    assert result["outcome"] == "completed", result
    assert {t["name"]: t["state"] for t in result["tenants"]} == dict.fromkeys("abcd", "applied")
    runs = children("b")
    assert [r.state.type.value for r in runs] == ["CRASHED", "COMPLETED"], [(r.name, r.state) for r in runs]
    assert runs[0].id == first.id and "heartbeat" in (runs[0].state.message or "")
    # a tenant the dead worker ran besides b (a worker runs several) crashed with it and ran again too
    others = {t: [r.state.type.value for r in children(t)] for t in "acd"}
    assert all(states[-1] == "COMPLETED" and set(states[:-1]) <= {"CRASHED"} for states in others.values()), others
    for name, url in pg_tenants.items():
        rows, journal = history_of(url)
        ups = sorted((r["version"], r["success"]) for r in rows if r["direction"] == "up")
        assert ups == [("1", True), ("2", True)], (name, rows)  # each change once, as applied; no failed row
        assert all(j["state"] != "started" for j in journal), (name, journal)
        with open_engine(url).connect() as conn:  # the change itself is there, once
            assert conn.exec_driver_sql("SELECT count(*) FROM information_schema.columns WHERE "
                                        "table_name = 'items' AND column_name = 'label'").scalar() == 1


def test_a_tenant_failing_in_its_child_halts_the_rollout_and_children_roll_the_run_back(
        pool: dict[str, str], pg_tenants: dict[str, str], tmp_path: Path) -> None:
    """The child's error crosses the process boundary as the tenant's own error (not a summary of the child's
    state), and the rollback the parent decides runs as tenant-rollback children too: every tenant ends where
    it started. The wave after the canary runs as one child of three tenants (``tenants_per_run``): d fails
    in it, b and c apply in it, and the parent reads each one's outcome (b and c are rolled back too)."""
    from dualpath.errors import RunFailed

    failing = migrations(tmp_path, "ALTER TABLE items ADD COLUMN label text;\n"
                                   "DO $$ BEGIN IF current_database() LIKE '%\\_d' THEN "
                                   "RAISE EXCEPTION 'boom on d'; END IF; END $$;\n")
    config = write_config(tmp_path, pg_tenants, wave_size=3)
    config.write_text(config.read_text().replace(config.read_text().splitlines()[0], f'migrations = "{failing}"'))

    with workers(pool, tmp_path, count=2):
        thread, box = in_thread({"env": "e2e", "config": str(config), "approve": True, "report_dir": str(tmp_path),
                                 "fan_out": "deployments", "tenants_per_run": 3})
        thread.join(timeout=900)
        assert not thread.is_alive(), "the parent flow did not end"

    assert isinstance(box.get("error"), RunFailed), box
    assert "boom on d" in str(box["error"])
    report = next(tmp_path.glob("dualpath-report-e2e-*.md")).read_text()
    assert "version 2 failed: boom on d" in report and "child flow run" not in report
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterTags

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=["dualpath-tenant"])))
    mine = [r for r in runs if r.parameters.get("config") == str(config)]
    rollbacks = sorted(r.parameters["tenant"] for r in mine if r.name.startswith("tenant-rollback-"))
    assert rollbacks == ["a", "b", "c", "d"], [(r.name, r.state) for r in mine]
    assert all(r.state.is_completed() for r in mine if r.name.startswith("tenant-rollback-"))
    applies = [(r.parameters["tenants"], r.state.type.value) for r in mine if r.name.startswith("tenant-apply-")]
    assert sorted(applies) == [(["a"], "COMPLETED"), (["b", "c", "d"], "FAILED")], applies
    rows = {line.split("|")[1].strip(): line for line in report.splitlines() if line.startswith("| ")}
    assert "boom on d" in rows["d"] and "boom" not in rows["b"] + rows["c"], rows  # each read its own outcome
    from dualpath.engines import open_engine

    for name, url in pg_tenants.items():
        with open_engine(url).connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM information_schema.tables "
                                        "WHERE table_name = 'items'").scalar() == 0, name


def test_a_child_no_worker_starts_is_cancelled_and_its_tenant_fails_saying_so(
        pool: dict[str, str], pg_tenants: dict[str, str], tmp_path: Path) -> None:
    """No worker runs at all (none is started here): the canary's child stays Scheduled, is cancelled after
    ``child_start_timeout_s``, and the run ends naming the pool and what to start, instead of waiting for
    ever. Nothing of the change ran on any tenant. No clock is raced: without a worker no run can start."""
    from dualpath.errors import RunFailed

    folder = migrations(tmp_path, "ALTER TABLE items ADD COLUMN label text;\n")
    config = write_config(tmp_path, pg_tenants)
    config.write_text(config.read_text().replace(config.read_text().splitlines()[0], f'migrations = "{folder}"'))
    thread, box = in_thread({"env": "e2e", "config": str(config), "approve": True, "report_dir": str(tmp_path),
                             "fan_out": "deployments", "child_start_timeout_s": 1})
    thread.join(timeout=600)
    assert not thread.is_alive(), "the parent flow did not end"
    assert isinstance(box.get("error"), RunFailed), box
    text = str(box["error"])
    assert "no worker of dualpath-process started child flow run" in text, text
    runs = [r for r in children("a") if r.parameters.get("config") == str(config)]
    assert runs and all(r.state.type.value == "CANCELLED" for r in runs), [(r.name, r.state) for r in runs]
    report = next(tmp_path.glob("dualpath-report-e2e-*.md")).read_text()
    assert "prefect worker start --pool" in report or "no worker of dualpath-process" in report
    from dualpath.engines import open_engine

    for name, url in pg_tenants.items():
        with open_engine(url).connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM information_schema.tables "
                                        "WHERE table_name = 'items'").scalar() == 0, name


PARENT = """
import sys
from dualpath.flows.migrate import migrate
migrate(env="e2e", config=sys.argv[1], report_dir=sys.argv[2])  # pauses for an approval nobody gives
"""


def test_a_migrate_run_whose_process_dies_ends_crashed_not_running(pool: dict[str, str], pg_tenants: dict[str, str],
                                                                   tmp_path: Path) -> None:
    """The parent's own process dies (here while it waits for the approval, where a run can wait an hour):
    its heartbeats stop and the automation sets it Crashed, where it stayed Running for ever before; nothing
    ran on any tenant. Waits for states, not for time: the guard below only ends a hung test."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    from dualpath.flows.silence import MIGRATE_FLOW

    config = write_config(tmp_path, pg_tenants, approval="always", approval_timeout_s=3600)
    env = {**pool, "PREFECT_FLOWS_HEARTBEAT_FREQUENCY": "30"}
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(config), str(tmp_path)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)

    def paused() -> list[Any]:
        with get_client(sync_client=True) as client:
            runs = client.read_flow_runs()
        return [r for r in runs if r.state and r.state.is_paused() and r.flow_id and
                client_flow_name(r.flow_id) == MIGRATE_FLOW and str(config) in str(r.parameters.get("config"))]

    try:
        run = wait_for_state("the migrate run paused for its approval", paused, parent)[0]
    finally:
        os.killpg(parent.pid, signal.SIGKILL)  # the machine running the parent dies
        parent.wait(timeout=30)

    def crashed() -> list[Any]:
        with get_client(sync_client=True) as client:
            found = client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])))
        return [r for r in found if r.state and r.state.is_crashed()]

    ended = wait_for_state("the dead migrate run set Crashed", crashed, None)[0]
    assert "heartbeat" in (ended.state.message or ""), ended.state
    assert set(versions(pg_tenants).values()) == {None}  # it died before anything ran


def client_flow_name(flow_id: Any) -> str:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return str(client.read_flow(flow_id).name)


def wait_for_state(what: str, found: Any, process: subprocess.Popen[bytes] | None, guard_s: float = 600) -> Any:
    """``found()`` once it is not empty; a process that ends first, or the guard, fails the test."""
    deadline = time.monotonic() + guard_s
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        assert process is None or process.poll() is None, f"the process ended before {what}"
        time.sleep(1)
    raise AssertionError(f"never saw {what} within {guard_s} s")
