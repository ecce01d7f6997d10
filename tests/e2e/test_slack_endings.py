"""Every run's Slack message ends in a final state that names the run, against a real Prefect server,
PostgreSQL tenants and a recording Slack: up to date, a dry run, refused by the window at the start, and a
started message that claims no counts before pre-flight has them. (Rejected, window closed, rolled back and
completed: tests/e2e/test_run_boundaries.py and tests/e2e/test_flow_slack.py.)"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from dualpath.errors import TargetRefused
from tests.e2e.conftest import versions, write_config
from tests.e2e.test_flow_slack import posted_texts, slack_table
from tests.e2e.test_run_boundaries import OPENS, WINDOW, HeldClock, clock, run_state, slack  # noqa: F401 - fixtures
from tests.slack_recorder import SlackRecorder


def status_of(update: dict[str, object]) -> str:
    return str(update["blocks"][1]["text"]["text"])  # type: ignore[index]


def test_each_run_ends_in_a_final_state_naming_it_and_counts_wait_for_pre_flight(
        prefect_api: str, pg_tenants: dict[str, str], tmp_path: Path, slack: SlackRecorder) -> None:  # noqa: F811
    from dualpath.flows.migrate import migrate

    config = write_config(tmp_path, pg_tenants, extra=slack_table(slack))
    first = migrate(env="e2e", config=str(config), to_version="2", approve=True)
    assert first["outcome"] == "completed" and set(versions(pg_tenants).values()) == {"2"}
    started = slack.calls("chat.postMessage")[0]
    # before pre-flight: no "Changes 0 / Risks none found", but "pre-flight running…", updated once it is done
    assert "*Changes*\npre-flight running…" in posted_texts(started) and "none found" not in posted_texts(started)
    assert "*Changes*\n0" not in posted_texts(started)
    after_preflight = slack.calls("chat.update")[0]
    assert "pre-flight done: 2 change(s) to apply" in status_of(after_preflight)
    assert "*Changes*\n2" in posted_texts(after_preflight)

    slack.requests.clear()
    second = migrate(env="e2e", config=str(config), to_version="2", approve=True)  # same name: migrate-e2e
    assert second["outcome"] == "up to date" and run_state(second["run_id"])[0] == "COMPLETED"
    again_started, up_to_date = slack.calls("chat.postMessage")
    assert "Migration up to date" in up_to_date["blocks"][0]["text"]["text"]
    assert "nothing to do: all 4 tenant(s) are at the target version" in posted_texts(up_to_date)
    final = slack.calls("chat.update")[-1]
    assert "up to date" in status_of(final) and "*Changes*\n0" in posted_texts(final)
    assert "Migration up to date" in final["blocks"][0]["text"]["text"]
    # two runs of one environment: different headers, each naming its run (name and id)
    headers = [started["blocks"][0]["text"]["text"], again_started["blocks"][0]["text"]["text"]]
    assert headers[0] != headers[1]
    for header, result in zip(headers, (first, second), strict=True):
        assert f"migrate-e2e {result['run_id'][:8]}" in header and "(e2e)" in header

    slack.requests.clear()
    dry = migrate(env="e2e", config=str(config), to_version="3", dry_run=True)
    assert dry["outcome"] == "dry run" and set(versions(pg_tenants).values()) == {"2"}
    assert "dry run done" in status_of(slack.calls("chat.update")[-1])
    assert f"Migration dry run done: 4 tenant(s) (e2e) · migrate-e2e {dry['run_id'][:8]}" in \
        slack.calls("chat.postMessage")[-1]["blocks"][0]["text"]["text"]


def test_a_run_refused_by_the_window_at_the_start_posts_a_final_refused_message(
        prefect_api: str, pg_tenants: dict[str, str], tmp_path: Path, clock: HeldClock,  # noqa: F811
        slack: SlackRecorder) -> None:  # noqa: F811
    from dualpath.flows.migrate import migrate

    config = write_config(tmp_path, pg_tenants, extra=slack_table(slack), window=WINDOW)
    clock.set(OPENS - timedelta(hours=3))  # closed, and far past the grace: refused, no wait
    with pytest.raises(TargetRefused):
        migrate(env="e2e", config=str(config), approve=True)
    assert set(versions(pg_tenants).values()) == {None}  # nothing ran
    [refused] = slack.calls("chat.postMessage")  # no "Migration started" left hanging: one final message
    assert "thread_ts" not in refused and refused["channel"] == "#db-migrations"
    header = refused["blocks"][0]["text"]["text"]
    assert header.startswith(":no_entry_sign: Migration refused: 4 tenant(s) (e2e) · migrate-e2e ")
    assert "refused: outside the maintenance window 'daily 02:00-05:00 UTC'; it next opens " \
           "2026-03-07T02:00:00+00:00" in posted_texts(refused)
    assert slack.calls("chat.update") == []


def test_a_run_refused_after_pre_flight_leaves_no_status_hanging(
        prefect_api: str, pg_tenants: dict[str, str], tmp_path: Path, slack: SlackRecorder) -> None:  # noqa: F811
    from dualpath.flows.migrate import migrate

    config = write_config(tmp_path, pg_tenants, extra=slack_table(slack), approvers=["release-manager"])
    with pytest.raises(TargetRefused) as caught:  # V7 is irreversible: the approval is due, mallory may not give it
        migrate(env="e2e", config=str(config), approve=True, approver="mallory")
    assert set(versions(pg_tenants).values()) == {None}
    started, refused = slack.calls("chat.postMessage")
    assert "Migration started" in started["blocks"][0]["text"]["text"]
    assert refused["thread_ts"] == "1700000000.000001" and refused["reply_broadcast"] is True
    assert refused["blocks"][0]["text"]["text"].startswith(":no_entry_sign: Migration refused: 4 tenant(s) (e2e)")
    assert caught.value.message in posted_texts(refused)
    final = slack.calls("chat.update")[-1]
    assert "refused" in status_of(final) and "Migration refused" in final["blocks"][0]["text"]["text"]
