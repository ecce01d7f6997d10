"""Block Kit builders: structure of each message and redaction of what a run supplies."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from pydantic import ValidationError

from dualpath.slack.client import SlackSettings
from dualpath.slack.messages import (
    Approval,
    Completion,
    Failure,
    PlanSummary,
    Rollback,
    RunInfo,
    State,
    WaveProgress,
    build_approval,
    build_completion,
    build_ended,
    build_failure,
    build_progress,
    build_rollback,
    build_run_started,
    build_status,
    format_duration,
    say,
    scrub,
)

RUN_URL = "http://127.0.0.1:4200/runs/flow-run/3f2a"
RUN = RunInfo(
    run_id="3f2a",
    env="prod",
    target="postgresql://app:hunter2secret@db.internal:5432/shop",
    window="Sat 02:00–04:00 UTC",
    tenants=120,
    approvers=("alice", "bob"),
    ticket="OPS-42",
    ticket_url="https://jira.example.com/browse/OPS-42",
    plan=PlanSummary(changes=3, risks={"error": 1, "warning": 2, "info": 0},
                     irreversible=("V7 drop legacy_orders",)),
)


def blocks_of(kind: str, blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b for b in blocks if b["type"] == kind]


def field_texts(blocks: list[dict[str, Any]]) -> list[str]:
    return [f["text"] for b in blocks for f in b.get("fields", [])]


def buttons(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for b in blocks_of("actions", blocks) for e in b["elements"] if e["type"] == "button"]


def test_run_started_shows_plan_window_tenants_approvers_and_ticket_link() -> None:
    message = build_run_started(RUN, RUN_URL)
    header = blocks_of("header", message.blocks)[0]["text"]
    assert header["type"] == "plain_text" and "started" in header["text"] and "prod" in header["text"]
    fields = field_texts(message.blocks)
    assert "*Window*\nSat 02:00–04:00 UTC" in fields
    assert "*Tenants*\n120" in fields
    assert "*Approvers*\nalice, bob" in fields
    assert "*Ticket*\n<https://jira.example.com/browse/OPS-42|OPS-42>" in fields
    assert "*Changes*\n3" in fields
    assert "*Risks*\n1 error · 2 warning" in fields
    assert "V7 drop legacy_orders" in json.dumps(message.blocks, ensure_ascii=False)
    assert RUN_URL in blocks_of("context", message.blocks)[0]["elements"][0]["text"]


def test_the_started_message_claims_no_counts_before_pre_flight() -> None:
    before = replace(RUN, plan=None)
    fields = field_texts(build_run_started(before).blocks)
    assert "*Changes*\npre-flight running…" in fields and "*Risks*\npre-flight running…" in fields
    assert not any(f.startswith("*Changes*\n0") or "none found" in f for f in fields)
    assert "pre-flight running…" in json.dumps(build_run_started(before).blocks, ensure_ascii=False)
    # the approval builder copes with a run that has no plan yet instead of failing the message
    assert "*Risks*\nnone found" in field_texts(build_approval(before, Approval("x", "y")).blocks)


def test_two_runs_of_one_environment_have_different_headers_naming_each_run() -> None:
    first = replace(RUN, run_id="3f2a9c1e-0000", run_name="migrate-prod")
    second = replace(RUN, run_id="77b0d2aa-1111", run_name="migrate-prod")
    headers = [blocks_of("header", build_run_started(r).blocks)[0]["text"]["text"] for r in (first, second)]
    assert headers[0] != headers[1]
    assert "migrate-prod 3f2a9c1e" in headers[0] and "migrate-prod 77b0d2aa" in headers[1]


def test_an_ending_without_changes_names_the_state_the_run_and_why() -> None:
    message = build_ended(replace(RUN, run_name="migrate-prod"), State.REFUSED,
                          "refused: outside the maintenance window; it next opens 2026-03-08T02:00:00+00:00")
    header = blocks_of("header", message.blocks)[0]["text"]["text"]
    assert header.startswith(":no_entry_sign: Migration refused:") and "migrate-prod 3f2a" in header
    assert "next opens 2026-03-08T02:00:00+00:00" in message.text and "hunter2secret" not in json.dumps(message.blocks)


def test_status_names_state_and_detail() -> None:
    message = build_status(RUN, State.RUNNING, "wave 2/5 · 40/120 tenants")
    assert "*running* · wave 2/5 · 40/120 tenants" in message.blocks[1]["text"]["text"]
    assert message.text.startswith("Migration running")


def test_approval_has_what_why_risks_and_a_button_to_the_paused_run() -> None:
    message = build_approval(RUN, Approval(what="drop legacy_orders", why="irreversible change"), RUN_URL)
    text = message.blocks[1]["text"]["text"]
    assert "*What:* drop legacy_orders" in text and "*Why:* irreversible change" in text
    assert "*Risks*\n1 error · 2 warning" in field_texts(message.blocks)
    [button] = buttons(message.blocks)
    assert button["url"] == RUN_URL and button["style"] == "primary"


def test_approval_without_ui_url_names_the_run() -> None:
    message = build_approval(RUN, Approval(what="x", why="y"))
    assert not buttons(message.blocks)
    assert "`3f2a`" in json.dumps(message.blocks, ensure_ascii=False)


def test_progress_is_one_short_section() -> None:
    message = build_progress(RUN, WaveProgress(wave=2, waves=5, tenants_done=40, tenants_total=120,
                                               tenants_failed=1, rows_moved=12345, elapsed_s=200))
    [block] = message.blocks
    assert block["type"] == "section"
    assert "wave 2/5 · 40/120 tenants · 1 failed · 12,345 rows moved · 3m 20s" in block["text"]["text"]


def test_failure_says_what_where_rolled_back_next_and_pings_oncall() -> None:
    failure = Failure(what="V5 add NOT NULL", error="column \"sku\" contains null values", tenant="acme",
                      step="apply", location="migrations/V5__sku.sql:3", rolled_back=("V5", "V4"),
                      next_step="backfill sku, then rerun")
    message = build_failure(RUN, failure, mention="<!subteam^S123>", run_url=RUN_URL)
    body = json.dumps(message.blocks, ensure_ascii=False)
    assert message.blocks[1]["text"]["text"].startswith("<!subteam^S123> *What failed:* V5 add NOT NULL")
    fields = field_texts(message.blocks)
    assert "*Tenant*\nacme" in fields and "*Step*\napply" in fields
    assert "*Where*\nmigrations/V5__sku.sql:3" in fields
    assert "• V5" in body and "• V4" in body and "*Next:* backfill sku, then rerun" in body
    assert buttons(message.blocks)[0]["url"] == RUN_URL


def test_completion_has_duration_rows_validations_and_report_button() -> None:
    completion = Completion(duration_s=3725, rows_moved=1_000_000, validations_passed=12, validations_total=12,
                            report_url="https://reports.example.com/3f2a.html")
    message = build_completion(RUN, completion)
    fields = field_texts(message.blocks)
    assert "*Duration*\n1h 02m" in fields and "*Rows moved*\n1,000,000" in fields
    assert "*Validations*\n12/12 passed" in fields
    assert buttons(message.blocks)[0]["url"] == "https://reports.example.com/3f2a.html"


def test_rollback_lists_what_was_undone() -> None:
    message = build_rollback(RUN, Rollback(reason="validation failed", undone=("V5",), tenants=3, to_version="4"))
    body = json.dumps(message.blocks, ensure_ascii=False)
    assert "*Why:* validation failed" in body and "• V5" in body
    assert "*Back to version*\n4" in field_texts(message.blocks)


@pytest.mark.parametrize("build", [
    lambda: build_run_started(RUN, RUN_URL),
    lambda: build_approval(RUN, Approval(what="x", why="y"), RUN_URL),
    lambda: build_failure(RUN, Failure(what="connect to postgresql://app:hunter2secret@db/shop",
                                       error="password=hunter2secret rejected", next_step="check"), None),
    lambda: build_rollback(RUN, Rollback(reason="x")),
])
def test_no_message_carries_the_password_of_a_target_url(build: Any) -> None:
    message = build()
    assert "hunter2secret" not in json.dumps(message.payload())
    assert "app:***@db" in json.dumps(message.payload())


def test_say_escapes_mrkdwn_after_redacting() -> None:
    assert say("a < b & c") == "a &lt; b &amp; c"
    assert say("mysql://x/db?ssl=1&password=s3cr3t") == "mysql://x/db?ssl=1&amp;password=***"


def test_scrub_hides_configured_secrets_everywhere_in_a_payload() -> None:
    token = "xoxb-1111-2222-abcdefabcdef"
    payload = {"text": f"token {token}", "blocks": [{"text": {"text": f"postgresql://u:pw12345@h/db {token}"}}]}
    clean = json.dumps(scrub(payload, [token]))
    assert token not in clean and "pw12345" not in clean and clean.count("***") == 3


def test_long_text_is_clipped_to_slack_limits() -> None:
    failure = Failure(what="x" * 5000, error="e", next_step="n")
    message = build_failure(RUN, failure)
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks_of("section", message.blocks) if "text" in b)
    assert len(blocks_of("header", build_run_started(RunInfo("r", "e", "t" * 500)).blocks)[0]["text"]["text"]) <= 150


def test_format_duration() -> None:
    assert [format_duration(s) for s in (5, 65, 3600)] == ["5s", "1m 05s", "1h 00m"]


def test_settings_check_mention_and_report_link_and_build_urls() -> None:
    settings = SlackSettings(prefect_ui_url="http://ui:4200/", report_link="https://r/{env}/{run_id}.html",
                             oncall_mention="<@U123>")
    assert settings.run_url("abc") == "http://ui:4200/runs/flow-run/abc"
    assert settings.report_url(RUN) == "https://r/prod/3f2a.html"
    with pytest.raises(ValidationError):
        SlackSettings(oncall_mention="@oncall")
    with pytest.raises(ValidationError):
        SlackSettings(report_link="https://r/{ticket}")


def test_settings_list_token_and_webhook_secret_as_secrets() -> None:
    hook = "https://hooks.slack.com/services/T0/B0/verysecretpath"
    settings = SlackSettings(bot_token="xoxb-1111-2222-abcdef", webhook_urls={"prod": hook})
    assert set(settings.secret_values()) == {"xoxb-1111-2222-abcdef", hook, "verysecretpath"}
    assert "xoxb" not in repr(settings)


def test_a_decision_names_approver_ticket_and_comment_and_a_rejection_says_nothing_changed() -> None:
    from dualpath.slack.messages import Decided, build_decision

    approved = build_decision(RUN, Decided(True, "dana", "OPS-42", "go ahead"), RUN_URL)
    fields = field_texts(approved.blocks)
    assert "*Approver*\ndana" in fields and "*Comment*\ngo ahead" in fields
    assert "*Ticket*\n<https://jira.example.com/browse/OPS-42|OPS-42>" in fields
    assert approved.text.startswith("Approved:") and "by dana" in approved.text
    rejected = build_decision(RUN, Decided(False, "lee", "", "not today", reason="rejected by lee: not today"), RUN_URL)
    body = json.dumps(rejected.blocks, ensure_ascii=False)
    assert "rejected by lee: not today" in body and "Nothing was changed." in body
    assert "*Ticket*\n—" in field_texts(rejected.blocks) and buttons(rejected.blocks)[0]["url"] == RUN_URL


def test_once_approved_the_status_and_completion_carry_who_approved() -> None:
    from dataclasses import replace

    approved = replace(RUN, approved_by="dana", comment="go ahead")
    status = field_texts(build_status(approved, State.RUNNING, "wave 1/3").blocks)
    assert "*Approved by*\ndana" in status and "*Comment*\ngo ahead" in status
    assert len(status) <= 10  # Slack's limit per section
    assert "*Approved by*\ndana" not in field_texts(build_status(RUN, State.RUNNING).blocks)
    done = field_texts(build_completion(approved, Completion(duration_s=5)).blocks)
    assert "*Approved by*\ndana" in done and "*Ticket*\n<https://jira.example.com/browse/OPS-42|OPS-42>" in done
    assert "*Comment*\ngo ahead" in done


def test_a_stopped_rollout_says_why_and_what_is_left() -> None:
    from dualpath.slack.messages import Stopped, build_stopped

    message = build_stopped(RUN, Stopped("the maintenance window closed before wave 2 of 3", 1, 3), RUN_URL)
    assert "Migration stopped" in blocks_of("header", message.blocks)[0]["text"]["text"]
    assert "*Tenants migrated*\n1" in field_texts(message.blocks) and "*Tenants left*\n3" in field_texts(message.blocks)
    assert "closed before wave 2 of 3" in message.text
