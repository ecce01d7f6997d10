"""Rollout rules: halting, whom to roll back in which order, irreversible stops, approvals."""

from __future__ import annotations

from dualpath.changes import Change, Directive
from dualpath.rollout import (
    PlanFacts,
    TenantOutcome,
    approval_reasons,
    plan_markdown,
    report_markdown,
    rollback_order,
    should_halt,
    skip_remaining,
    split_at_irreversible,
)


def change(version: str, irreversible: bool = False) -> Change:
    directives = (Directive("irreversible", {"reason": "drops data"}, "f.sql", 1),) if irreversible else ()
    return Change(version=version, description=f"change {version}", forward=(), rollback=(), file=f"V{version}.sql",
                  directives=directives)


def test_rollout_halts_at_the_failure_threshold() -> None:
    outcomes = [TenantOutcome("a", 1, "applied"), TenantOutcome("b", 2, "failed")]
    assert should_halt(outcomes, 1)
    assert not should_halt(outcomes, 2)


def test_rollback_order_is_failed_first_then_migrated_newest_first() -> None:
    outcomes = [TenantOutcome("canary", 1, "applied"), TenantOutcome("b", 2, "applied"),
                TenantOutcome("c", 2, "failed"), TenantOutcome("d", 3, "skipped")]
    assert rollback_order(outcomes, "run") == ["c", "b", "canary"]
    assert rollback_order(outcomes, "failed") == ["c"]


def test_rollback_stops_before_an_irreversible_change() -> None:
    newest_first = [change("7"), change("6", irreversible=True), change("5")]
    undoable, blocker = split_at_irreversible(newest_first)
    assert [c.version for c in undoable] == ["7"]
    assert blocker is not None and blocker.version == "6"
    assert split_at_irreversible([change("2"), change("1")])[1] is None


def test_irreversible_changes_always_need_approval() -> None:
    assert approval_reasons([change("1")], "irreversible") == []
    assert approval_reasons([change("1")], "always")
    assert "drops data" in approval_reasons([change("2", irreversible=True)], "never")[0]


def test_skipped_tenants_are_recorded_for_waves_never_started() -> None:
    outcomes: list[TenantOutcome] = []
    skip_remaining(outcomes, [["a"], ["b", "c"], ["d"]], 2)
    assert [(o.name, o.wave, o.state) for o in outcomes] == [("d", 3, "skipped")]


def test_plan_and_report_markdown_name_risks_waves_and_restoration() -> None:
    facts = PlanFacts(env="prod", changes=[change("5"), change("6", irreversible=True)], waves=[["a"], ["b", "c"]],
                      findings=[("warning", "DP012", "V6.sql:1 drop column")], backup="required",
                      rollback_policy="run", approvals=["6 is irreversible"])
    text = plan_markdown(facts)
    assert "DP012" in text and "1. a (canary)" in text and "6 is irreversible" in text
    done = TenantOutcome("a", 1, "rolled back", fingerprint_before="x", fingerprint_after="x")
    assert done.restored is True
    assert "| a | 1 | rolled back |" in report_markdown("prod", "r1", "rolled back", [done])


def test_a_decision_is_an_approval_only_from_a_listed_approver_who_said_yes() -> None:
    from dualpath.rollout import decide, no_decision

    yes = decide(True, " dana ", "SHOP-131", " go ", ["dana", "lee"])
    assert yes.approved and (yes.approver, yes.ticket, yes.comment) == ("dana", "SHOP-131", "go")
    assert yes.headline == "approved by dana (ticket SHOP-131, “go”)"
    assert yes.audit_detail() == {"approver": "dana", "ticket": "SHOP-131", "comment": "go"}
    no = decide(False, "dana", "SHOP-131", "not today", ["dana"])
    assert not no.approved and no.rejected and no.reason == "rejected by dana: not today"
    assert no.audit_detail()["reason"] == "rejected by dana: not today"
    stranger = decide(True, "mallory", "", "", ["dana", "lee"])
    assert not stranger.approved and not stranger.rejected and "'mallory' may not approve" in stranger.reason
    late = no_decision(300)
    assert not late.approved and late.reason == "no decision within 300 s"


def test_window_stop_says_why_a_phase_may_not_start() -> None:
    from datetime import UTC, datetime

    from dualpath.rollout import window_stop

    window = "daily 02:00-05:00 UTC"
    assert window_stop(window, datetime(2026, 3, 7, 4, 59, tzinfo=UTC), "before wave 2 of 3") is None
    assert window_stop(None, datetime(2026, 3, 7, 12, 0, tzinfo=UTC), "before wave 2 of 3") is None
    reason = window_stop(window, datetime(2026, 3, 7, 5, 0, tzinfo=UTC), "before wave 2 of 3")
    assert reason == ("the maintenance window 'daily 02:00-05:00 UTC' is closed before wave 2 of 3; it next opens "
                      "2026-03-08T02:00:00+00:00 (21 h 0 min from now)")


def test_the_report_names_who_decided_with_ticket_and_comment() -> None:
    from dualpath.rollout import decide

    approved = report_markdown("prod", "r1", "completed", [TenantOutcome("a", 1, "applied")], [],
                               decide(True, "dana", "SHOP-131", "go", []))
    assert "**Approval:** approved" in approved
    assert "- Approver: dana" in approved and "- Ticket: SHOP-131" in approved and "- Comment: go" in approved
    rejected = report_markdown("prod", "r1", "rejected", [TenantOutcome("a", 1, "skipped")], [],
                               decide(False, "lee", "", "not today", []))
    assert "**Approval:** **not approved**: rejected by lee: not today" in rejected and "- Ticket: —" in rejected
    assert "**Approval:** not needed for this run" in report_markdown("prod", "r1", "completed", [])
