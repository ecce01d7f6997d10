"""Notifier against a local HTTP server that answers like Slack's Web API and records requests
(``tests/slack_recorder.py``)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from dualpath.slack.client import (
    Approval,
    Completion,
    Failure,
    Notifier,
    PlanSummary,
    Rollback,
    RunInfo,
    SlackSettings,
    WaveProgress,
)
from tests.slack_recorder import SlackRecorder, recording_slack

pytestmark = pytest.mark.integration

TOKEN = "xoxb-4242-4242-tokenvalue"
PASSWORD = "hunter2secret"
RUN = RunInfo(
    run_id="run-7", env="prod", target=f"postgresql://app:{PASSWORD}@db.internal:5432/shop",
    window="Sat 02:00-04:00 UTC", tenants=4, approvers=("alice",), ticket="OPS-42",
    ticket_url="https://jira.example.com/browse/OPS-42",
    plan=PlanSummary(changes=2, risks={"warning": 1}, irreversible=("V3 drop column",)),
)
WAVE = WaveProgress(wave=1, waves=2, tenants_done=2, tenants_total=4, rows_moved=100)


@pytest.fixture
def slack() -> Iterator[SlackRecorder]:
    with recording_slack() as recorder:
        yield recorder


def settings_for(slack: SlackRecorder, **overrides: Any) -> SlackSettings:
    values: dict[str, Any] = dict(
        bot_token=TOKEN, api_base_url=slack.api_url, channels={"prod": "#db-migrations"},
        oncall_mention="<!subteam^S123>", prefect_ui_url="http://127.0.0.1:4200",
        report_link="https://reports.example.com/{env}/{run_id}.html",
        timeout_s=30,  # a stalled recorder thread on a loaded machine is not a dead Slack; no test waits it out
    )
    return SlackSettings(**(values | overrides))


def block_types(body: dict[str, Any]) -> list[str]:
    return [b["type"] for b in body["blocks"]]


def test_a_run_posts_one_status_message_and_threads_the_story_under_it(slack: SlackRecorder) -> None:
    notifier = Notifier(settings_for(slack), "prod")

    status = notifier.run_started(RUN)
    assert status is not None and status.ts is not None
    notifier.approval_needed(RUN, Approval(what="V3 drops a column", why="irreversible"))
    notifier.wave_progress(RUN, WAVE)
    notifier.wave_progress(RUN, WaveProgress(wave=2, waves=2, tenants_done=4, tenants_total=4))
    done = notifier.run_completed(RUN, Completion(duration_s=90, rows_moved=200, validations_passed=5,
                                                  validations_total=5))
    assert done is not None

    posts = slack.calls("chat.postMessage")
    assert len(posts) == 5  # status + approval + two waves + completion: no flood
    top, *replies = posts
    assert top["channel"] == "#db-migrations" and "thread_ts" not in top
    assert block_types(top)[0] == "header" and "started" in top["blocks"][0]["text"]["text"]
    assert all(reply["thread_ts"] == status.ts for reply in replies)

    approval = replies[0]
    assert approval["reply_broadcast"] is True
    [button] = [e for b in approval["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert button["url"] == "http://127.0.0.1:4200/runs/flow-run/run-7"
    assert "wave 1/2 · 2/4 tenants" in replies[1]["blocks"][0]["text"]["text"]
    report = [e["url"] for b in replies[-1]["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert report == ["https://reports.example.com/prod/run-7.html"]

    updates = slack.calls("chat.update")
    assert len(updates) == 4
    assert {(u["channel"], u["ts"]) for u in updates} == {("C1", status.ts)}
    states = [u["blocks"][1]["text"]["text"] for u in updates]
    assert "awaiting approval" in states[0] and "wave 1/2" in states[1] and "completed" in states[-1]


def test_failure_and_rollback_ping_oncall_in_the_thread(slack: SlackRecorder) -> None:
    notifier = Notifier(settings_for(slack), "prod")
    status = notifier.run_started(RUN)
    assert status is not None
    notifier.run_failed(RUN, Failure(what="V2 add NOT NULL", error="null values", next_step="backfill first",
                                     tenant="acme", step="apply", location="V2__x.sql:4", rolled_back=("V2",)))
    notifier.run_rolled_back(RUN, Rollback(reason="V2 failed on acme", undone=("V2",), tenants=1))

    failure, rollback = slack.calls("chat.postMessage")[1:]
    assert failure["thread_ts"] == status.ts and failure["reply_broadcast"] is True
    assert failure["blocks"][1]["text"]["text"].startswith("<!subteam^S123> *What failed:*")
    assert rollback["thread_ts"] == status.ts and "Rolled back" in rollback["blocks"][0]["text"]["text"]
    assert "rolled back" in slack.calls("chat.update")[-1]["blocks"][1]["text"]["text"]


def test_rate_limit_is_retried_after_retry_after(slack: SlackRecorder) -> None:
    slack.rate_limit_next = 2
    notifier = Notifier(settings_for(slack, rate_limit_retries=3, max_retry_wait_s=5), "prod")

    posted = notifier.run_started(RUN)

    assert posted is not None and posted.ts is not None
    assert len(slack.calls("chat.postMessage")) == 3  # two 429s, then success


def test_rate_limit_past_the_retry_budget_gives_up_without_raising(slack: SlackRecorder) -> None:
    slack.rate_limit_next = 5
    notifier = Notifier(settings_for(slack, rate_limit_retries=1), "prod")

    assert notifier.run_started(RUN) is None
    assert len(slack.calls("chat.postMessage")) == 2  # first try + one retry


def test_slack_down_never_stops_the_run(slack: SlackRecorder, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="dualpath.notify")
    notifier = Notifier(settings_for(slack), "prod")
    assert notifier.run_started(RUN) is not None
    slack.stop()  # Slack dies mid-run

    assert notifier.approval_needed(RUN, Approval(what="x", why="y")) is None
    assert notifier.wave_progress(RUN, WAVE) is None
    assert notifier.run_failed(RUN, Failure(what="x", error="y", next_step="z")) is None
    assert notifier.run_rolled_back(RUN, Rollback(reason="x")) is None
    assert notifier.run_completed(RUN, Completion(duration_s=1)) is None
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("not sent" in w for w in warnings) and any("pausing" in w for w in warnings)
    assert TOKEN not in caplog.text


def test_secrets_never_reach_slack(slack: SlackRecorder) -> None:
    hook = f"http://127.0.0.1:{slack.port}/services/T0/B0/webhooksecretpath"
    notifier = Notifier(settings_for(slack, webhook_url=hook), "prod")
    leaky = Failure(what=f"connect to {RUN.target}", error=f"auth failed; token {TOKEN}; hook {hook}",
                    next_step=f"retry with password={PASSWORD}")

    notifier.run_started(RUN)
    notifier.run_failed(RUN, leaky)
    notifier.run_completed(RUN, Completion(duration_s=1, report_url=f"https://u:{PASSWORD}@reports/x"))

    assert len(slack.requests) >= 3
    for request in slack.requests:
        assert PASSWORD not in request.raw and TOKEN not in request.raw and "webhooksecretpath" not in request.raw


def test_webhook_posts_new_messages_instead_of_threads_and_updates(slack: SlackRecorder) -> None:
    hook = f"http://127.0.0.1:{slack.port}/services/T0/B0/webhooksecretpath"
    settings = SlackSettings(webhook_urls={"prod": hook}, oncall_mention="<@U123>", timeout_s=30)
    notifier = Notifier(settings, "prod")

    assert notifier.run_started(RUN) is not None
    assert notifier.wave_progress(RUN, WAVE) is not None
    assert notifier.run_failed(RUN, Failure(what="x", error="y", next_step="z", tenant="acme")) is not None

    assert [r.path for r in slack.requests] == ["/services/T0/B0/webhooksecretpath"] * 3
    assert all("thread_ts" not in r.body and "blocks" in r.body for r in slack.requests)
    assert slack.requests[2].body["blocks"][1]["text"]["text"].startswith("<@U123>")
    assert PASSWORD not in "".join(r.raw for r in slack.requests)


def test_without_token_or_webhook_the_notifier_is_off() -> None:
    notifier = Notifier(SlackSettings(), "prod")
    assert not notifier.enabled
    assert notifier.run_started(RUN) is None
