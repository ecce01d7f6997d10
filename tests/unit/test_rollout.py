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
