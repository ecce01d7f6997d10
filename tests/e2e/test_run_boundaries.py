"""The migrate flow at its boundaries, against a real Prefect server, PostgreSQL tenants and a recording Slack:
the window checked again after the approval and before every wave, a run started a moment early, a
rejection that ends in a state of its own with a report, audit rows and Slack, and backups taken only
after the approval.

The time the flow reads is a clock the test holds (``dualpath.tasks.clock``); it moves at events of the run (the
approval being given, the wave-1 message reaching Slack), never with the machine's speed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from dualpath.errors import TargetRefused
from tests.e2e.conftest import fingerprints, versions, write_config
from tests.e2e.test_flow_slack import TOKEN, posted_texts, report_artifact, seed, slack_table, with_password
from tests.slack_recorder import Recorded, SlackRecorder, recording_slack

WINDOW = "daily 02:00-05:00 UTC"
OPENS = datetime(2026, 3, 7, 2, 0, tzinfo=UTC)
CLOSES = datetime(2026, 3, 7, 5, 0, tzinfo=UTC)


@dataclass
class HeldClock:
    """The flow's clock, set by the test; ``sleep`` moves it on by what was asked and records the ask."""

    moment: datetime
    slept: list[float] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def now(self) -> datetime:
        with self.lock:
            return self.moment

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.slept.append(seconds)
            self.moment += timedelta(seconds=seconds)

    def set(self, moment: datetime) -> None:
        with self.lock:
            self.moment = moment


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> HeldClock:
    import dualpath.tasks.clock

    held = HeldClock(OPENS + timedelta(hours=1))
    monkeypatch.setattr(dualpath.tasks.clock, "now", held.now)
    monkeypatch.setattr(dualpath.tasks.clock, "sleep", held.sleep)
    return held


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlackRecorder]:
    monkeypatch.setenv("E2E_SLACK_TOKEN", TOKEN)
    with recording_slack() as recorder:
        yield recorder


def backups_in(folder: Path) -> list[Path]:
    return [p for p in (folder / "backups").rglob("*") if p.is_file()]


def run_state(run_id: str) -> tuple[str, str]:
    """(state type, state name) of the flow run as the Prefect server has it."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        state = client.read_flow_run(UUID(run_id)).state
    assert state is not None
    return state.type.value, state.name or ""


def run_id_of_report(folder: Path) -> str:
    [report] = folder.glob("dualpath-report-e2e-*.md")
    return report.stem.removeprefix("dualpath-report-e2e-")


def audit_of(url: str) -> list[dict[str, Any]]:
    from dualpath import history
    from dualpath.engines import open_engine

    engine = open_engine(url)
    with engine.connect() as conn:
        rows = history.audit_rows(conn)
        conn.rollback()
    return rows


def headers(slack: SlackRecorder) -> list[str]:
    return [p["blocks"][0]["text"]["text"] for p in slack.calls("chat.postMessage")]


def test_a_window_that_closes_while_the_approver_reads_stops_the_run_before_any_backup_or_wave(
        prefect_api: str, pg_tenants: dict[str, str], tmp_path: Path, clock: HeldClock,
        slack: SlackRecorder) -> None:
    from dualpath.flows.local import run_flow

    tenants = with_password(pg_tenants)
    seed(tenants)  # tenants at V4 with rows: V7 drops a column, so an approval and a backup are due
    before = fingerprints(tenants)
    config = write_config(tmp_path, tenants, extra=slack_table(slack), window=WINDOW)
    at_the_pause: list[list[Path]] = []

    def approve_after_the_window_closed(plan: str) -> dict[str, Any]:
        at_the_pause.append(backups_in(tmp_path))
        clock.set(CLOSES)  # the approver took too long: the window closed meanwhile
        return {"decision": "approve", "approver": "release-manager", "ticket": "SHOP-131", "comment": "go"}

    with pytest.raises(TargetRefused) as caught:
        run_flow({"env": "e2e", "config": str(config), "report_dir": str(tmp_path)}, approve_after_the_window_closed,
                 lambda _: None)
    assert "the maintenance window 'daily 02:00-05:00 UTC' is closed after the approval" in caught.value.message
    assert "next opens 2026-03-08T02:00:00+00:00" in caught.value.message
    assert at_the_pause == [[]] and backups_in(tmp_path) == []  # no backup before the approval, none after it
    assert set(versions(tenants).values()) == {"4"} and fingerprints(tenants) == before
    run_id = run_id_of_report(tmp_path)
    assert run_state(run_id) == ("COMPLETED", "Window closed")
    report = next(tmp_path.glob("dualpath-report-e2e-*.md")).read_text()
    assert f"# dualpath run {run_id}: window closed" in report and "| d | 3 | skipped |" in report
    assert "0 tenant(s) migrated, 4 left for the next run" in report
    [stopped] = [p for p in slack.calls("chat.postMessage") if "Migration stopped" in p["blocks"][0]["text"]["text"]]
    assert stopped["reply_broadcast"] is True and "*Tenants left*\n4" in posted_texts(stopped)
    assert "stopped" in slack.calls("chat.update")[-1]["blocks"][1]["text"]["text"]


def test_a_window_that_closes_during_a_wave_lets_it_finish_and_starts_no_other(
        prefect_api: str, pg_tenants: dict[str, str], tmp_path: Path, clock: HeldClock,
        slack: SlackRecorder) -> None:
    from dualpath.flows.migrate import migrate

    def close_when_wave_one_is_done(request: Recorded) -> None:
        if "wave 1/3" in str(request.body.get("text", "")):
            clock.set(CLOSES)

    slack.on_request = close_when_wave_one_is_done
    config = write_config(tmp_path, pg_tenants, extra=slack_table(slack), window=WINDOW)
    result = migrate(env="e2e", config=str(config), approve=True, approver="release-manager",
                     report_dir=str(tmp_path))
    assert result["outcome"] == "window closed"
    assert [(t["name"], t["state"]) for t in result["tenants"]] == [
        ("a", "applied"), ("b", "skipped"), ("c", "skipped"), ("d", "skipped")]
    assert versions(pg_tenants) == {"a": "7", "b": None, "c": None, "d": None}
    assert "is closed before wave 2 of 3" in result["refused"]
    assert run_state(result["run_id"]) == ("COMPLETED", "Window closed")
    report = Path(result["report"]).read_text()
    assert "| a | 1 | applied |" in report and "| b | 2 | skipped |" in report
    assert "1 tenant(s) migrated, 3 left for the next run" in report
    [stopped] = [p for p in slack.calls("chat.postMessage") if "Migration stopped" in p["blocks"][0]["text"]["text"]]
    assert "*Tenants migrated*\n1" in posted_texts(stopped) and "*Tenants left*\n3" in posted_texts(stopped)
    assert "*Approved by*\nrelease-manager" in posted_texts(stopped)
    assert not any("wave 2/3" in h for h in map(str, slack.calls("chat.postMessage")))


def test_a_run_started_a_moment_before_the_window_waits_for_the_opening(
        prefect_api: str, pg_tenants: dict[str, str], tmp_path: Path, clock: HeldClock) -> None:
    from dualpath.flows.migrate import migrate

    config = write_config(tmp_path, pg_tenants, window=WINDOW)
    clock.set(OPENS - timedelta(seconds=0.43))  # as a worker starts a scheduled run, measured
    result = migrate(env="e2e", config=str(config), approve=True, to_version="2")
    assert result["outcome"] == "completed" and set(versions(pg_tenants).values()) == {"2"}
    assert len(clock.slept) == 1 and abs(clock.slept[0] - 0.43) < 1e-6  # one computed wait, to the opening

    clock.set(OPENS - timedelta(days=1, seconds=61))  # past the 60 s grace: refused, no wait
    clock.slept.clear()
    with pytest.raises(TargetRefused) as caught:
        migrate(env="e2e", config=str(config), approve=True)
    assert "outside the maintenance window" in caught.value.message and clock.slept == []
    assert set(versions(pg_tenants).values()) == {"2"}


def test_a_rejection_ends_rejected_with_a_report_audit_rows_and_slack_and_no_backup(
        prefect_api: str, pg_tenants: dict[str, str], tmp_path: Path, slack: SlackRecorder) -> None:
    from dualpath.flows.local import run_flow

    tenants = with_password(pg_tenants)
    seed(tenants)
    before = fingerprints(tenants)
    config = write_config(tmp_path, tenants, extra=slack_table(slack))
    at_the_pause: list[list[Path]] = []

    def reject(plan: str) -> dict[str, Any]:
        at_the_pause.append(backups_in(tmp_path))
        return {"decision": "reject", "approver": "dba-on-call", "ticket": "SHOP-131", "comment": "not today"}

    with pytest.raises(TargetRefused) as caught:
        run_flow({"env": "e2e", "config": str(config), "report_dir": str(tmp_path)}, reject, lambda _: None)
    assert caught.value.message.startswith("rejected by dba-on-call: not today; nothing was changed")
    assert at_the_pause == [[]] and backups_in(tmp_path) == []
    assert fingerprints(tenants) == before and set(versions(tenants).values()) == {"4"}
    run_id = run_id_of_report(tmp_path)
    assert run_state(run_id) == ("COMPLETED", "Rejected")  # not Failed: nothing pages, no Retry button
    # the report, as a file and as the run's artifact, says who rejected, the ticket and why
    report = next(tmp_path.glob("dualpath-report-e2e-*.md")).read_text()
    assert f"# dualpath run {run_id}: rejected" in report
    assert "**Approval:** **not approved**: rejected by dba-on-call: not today" in report
    assert "- Approver: dba-on-call" in report and "- Ticket: SHOP-131" in report and "| a | 1 | skipped |" in report
    assert "rejected by dba-on-call: not today" in report_artifact(run_id)
    # every tenant's audit trail keeps the rejection, with who and why
    for name, url in tenants.items():
        [row] = [r for r in audit_of(url) if r["run_id"] == run_id]
        assert (row["action"], row["who"], row["ticket"]) == ("rejection", "dba-on-call", "SHOP-131"), name
        assert "not today" in row["detail"]
    # Slack leaves "awaiting approval": the status says rejected, the thread hears who and why
    status = slack.calls("chat.update")[-1]["blocks"][1]["text"]["text"]
    assert "rejected" in status and "awaiting approval" not in status
    [answer] = [p for p in slack.calls("chat.postMessage") if "Not approved" in p["blocks"][0]["text"]["text"]]
    assert answer["reply_broadcast"] is True and "*Approver*\ndba-on-call" in posted_texts(answer)
    assert "*Comment*\nnot today" in posted_texts(answer) and "Nothing was changed." in posted_texts(answer)
