"""The Prefect server goes away while a migrate run waits for approval, and comes back on the same port with
the same database: the run can still be resumed as the UI would, and completes."""

from __future__ import annotations

import json
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from dualpath.flows.approval import REACHABLE, UNREACHABLE
from tests.e2e.conftest import pg_tenants, versions, write_config
from tests.reliability.flow_support import (
    PrefectServer,
    finish,
    pointed_at,
    read_run,
    shared_prefect,
    start_flow,
    wait_paused,
)

__all__ = ["pg_tenants", "shared_prefect"]

WENT_AWAY = "the Prefect server went away while this run waits for a decision"
APPROVAL = {"decision": "approve", "approver": "release-manager", "ticket": "SHOP-131", "comment": "after the restart"}


@pytest.fixture(scope="module")
def server(shared_prefect: PrefectServer) -> Iterator[PrefectServer]:
    """The test process's shared server (a fresh one costs 15 s and more): killed and started again on the same
    port with the same database below, and running again when the module ends."""
    with pointed_at(shared_prefect) as started:
        try:
            yield started
        finally:
            if started.process is None:
                started.start()


def outage(server: PrefectServer, sig: signal.Signals, process: subprocess.Popen[bytes], output: Path,
           times: int) -> None:
    """Stop the server with ``sig``; once dualpath's wait has said for the ``times``-th time that the server is
    unreachable (Prefect's client gave up on its retries: the outage outlasted them by construction, however fast
    the machine), start it again on the same port and database, and wait until the run has seen it back."""
    server.stop(sig)
    wait_said(process, output, UNREACHABLE, times)
    server.start()
    wait_said(process, output, REACHABLE, times)


def wait_said(process: subprocess.Popen[bytes], output: Path, text: str, times: int, timeout_s: float = 300) -> None:
    """Until the run's output holds ``text`` ``times`` times; the deadline only catches a hang."""
    deadline = time.monotonic() + timeout_s
    while output.read_text(errors="replace").count(text) < times:
        assert process.poll() is None, f"the run died while the server was gone:\n{output.read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"the run never said {text!r} {times}x:\n{output.read_text()[-3000:]}"
        time.sleep(0.2)


def test_a_paused_run_survives_server_restarts_and_is_resumed_as_the_ui_would(
        server: PrefectServer, pg_tenants: dict[str, str], tmp_path: Path) -> None:
    from prefect.flow_runs import resume_flow_run

    name = f"restart-{uuid.uuid4().hex[:6]}"
    output = tmp_path / "flow.log"
    tenants = {t: pg_tenants[t] for t in "ab"}  # canary a, then b: enough to show the run goes on
    config = write_config(tmp_path, tenants, approval="always")
    params = {"env": "e2e", "config": str(config), "to_version": "3", "report_dir": str(tmp_path)}
    # Prefect's client gives up on a refused connection after 2 retries (~6 s) instead of 5 (~60 s); each outage
    # below lasts until the run has said it gave up, so only dualpath's approval wait can ride it out
    process = start_flow(server, name, params, output, {"PREFECT_CLIENT_MAX_RETRIES": "2"})
    try:
        run = wait_paused(name, process, output)
        outage(server, signal.SIGTERM, process, output, 1)  # Prefect's pause gave up, then dualpath's first poll
        outage(server, signal.SIGKILL, process, output, 2)  # while dualpath's wait polls on its own
        resume_flow_run(run.id, run_input=APPROVAL)
        text = finish(process, output)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0 and "OUTCOME completed" in text, text[-3000:]
    assert WENT_AWAY in text and text.count(UNREACHABLE) == 2 and text.count(REACHABLE) == 2
    assert versions(tenants) == {"a": "3", "b": "3"}
    final = read_run(name)
    assert final.state.is_completed(), final.state
    [report] = tmp_path.glob("dualpath-report-e2e-*.md")
    assert str(final.id) in report.name and "| b | 2 | applied |" in report.read_text()
    assert approvals(tenants["a"]) == [APPROVAL["approver"]]


def approvals(url: str) -> list[str]:
    """Who approved, per the tenant's own audit trail."""
    from dualpath import history
    from dualpath.engines import open_engine

    with open_engine(url).connect() as conn:
        return [json.loads(r["detail"])["approver"] for r in history.audit_rows(conn) if r["action"] == "approval"]


def test_the_wait_gives_up_once_the_server_stays_away_longer_than_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from dualpath.errors import TargetRefused
    from dualpath.flows.approval import OUTAGE_ENV, ApprovalInput, await_resume
    from dualpath.flows.local import free_port

    monkeypatch.setenv(OUTAGE_ENV, "2")
    monkeypatch.setenv("PREFECT__FLOW_RUN_ID", str(uuid.uuid4()))  # the run whose pause is awaited
    # no clock asserted: ignoring the limit would loop forever (the pause's own deadline is checked only after a
    # successful poll), so the refusal itself proves it gave up once the 2 s allowed had passed
    with temporary_settings(updates={PREFECT_API_URL: f"http://127.0.0.1:{free_port()}/api"}):  # nothing listens
        with pytest.raises(TargetRefused) as caught:
            await_resume(ApprovalInput, "dualpath-gone", deadline=time.monotonic() + 300)
    assert "the Prefect server was unreachable for 2 s while the run waited for a decision" in caught.value.message
    assert OUTAGE_ENV in (caught.value.hint or "")
