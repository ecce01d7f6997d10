"""The decision card above the approval form: its content, from a plan built here."""

from __future__ import annotations

from pathlib import Path

import pytest

from dualpath.approval_card import (
    CardFacts,
    approval_card,
    approver_columns,
    readable_plan,
    relative_to,
    strongest_lock,
)
from dualpath.estimates import Throughput
from dualpath.plan import Plan, PlannedChange, Prerequisite, Step, Totals
from dualpath.risk.model import Finding

MIGRATIONS = Path("/srv/app/db/migrations")


def step(id_: str, where: str, lock: str, blocks: str, seconds: float, tables: list[str],
         direction: str = "up") -> Step:
    return Step(id=id_, version=id_.lstrip("R").split(".")[0], direction=direction, where=where, sql="...",
                operations=["alter table"], tables=tables, lock=lock, blocks=blocks, rewrite=False, cost="",
                algorithm=None, transaction="one per change", rows=0, seconds=seconds, wal_bytes=0, disk_bytes=0)


def change(version: str, description: str, irreversible: str | None = None) -> PlannedChange:
    return PlannedChange(version=version, description=description, where=f"{MIGRATIONS}/V{version}__x.sql:1",
                         category="DDL", categories=["DDL"], ticket=None, ticket_url=None, irreversible=irreversible,
                         steps=[f"{version}.1"], rollback_steps=[], seconds=1.0)


def a_plan() -> Plan:
    steps = [step("5.1", f"{MIGRATIONS}/V5__add_display_name.sql:3", "ACCESS EXCLUSIVE", "reads and writes", 0.4,
                  ["customers"]),
             step("6.1", f"{MIGRATIONS}/V6__backfill.sql:4", "ROW EXCLUSIVE", "none", 95.0, ["customers"]),
             step("7.1", f"{MIGRATIONS}/V7__drop_name.sql:5", "ACCESS EXCLUSIVE", "reads and writes", 2.5,
                  ["customers"])]
    rollback = [step("R5.1", f"{MIGRATIONS}/U5__add_display_name.sql:1", "ACCESS EXCLUSIVE", "reads and writes",
                     0.1, ["customers"], "down")]
    findings = [Finding("DP012", "warning", f"{MIGRATIONS}/V7__drop_name.sql", 5, "drops a column still read"),
                Finding("DP023", "info", f"{MIGRATIONS}/U5__add_display_name.sql", 1, "no lock_timeout"),
                Finding("DP024", "info", f"{MIGRATIONS}/V5__add_display_name.sql", 3, "style")]
    prereqs = [Prerequisite("backup", True, "destructive changes: 7"),
               Prerequisite("window", True, "runs only within Sat 02:00-05:00 Europe/Berlin", environment="prod"),
               Prerequisite("window", True, "runs only within Tue 20:00-22:00 Europe/Berlin", environment="staging")]
    return Plan(target="tenant a (db1:5432/shop_a)", engine="postgresql", version="16", generated_at="now",
                changes=[change("5", "add display name"), change("6", "backfill display name"),
                         change("7", "drop name", irreversible="drops customers.name")],
                steps=steps, rollback_steps=rollback, findings=findings, prerequisites=prereqs,
                totals=Totals(changes=3, steps=3, seconds=98.0, rollback_seconds=0.1, blocking_seconds=2.9,
                              rewrite_bytes=0, wal_bytes=0),
                throughput=Throughput(engine="postgresql"))


def card(**overrides: object) -> str:
    plan = readable_plan(a_plan(), MIGRATIONS, "prod")
    facts = {"env": "prod", "tenants": 12, "waves": [["a"], ["b", "c"], ["d"]], "plan": plan,
             "backup": "policy 'destructive', to s3://backups/prod",
             "rollback_plan": "On failure, roll back the failed tenant; 6 → 5 are undone; 7 is irreversible.",
             "window": "Sat 02:00-05:00 Europe/Berlin", "approvals": ["7 drop name is irreversible"],
             "approvers": ["alice", "bob"], "rollback_files": frozenset({"U5__add_display_name.sql"}),
             "plan_url": "http://127.0.0.1:4200/artifacts/artifact/abc"}
    facts.update(overrides)
    return approval_card(CardFacts(**facts))  # type: ignore[arg-type]


def test_the_card_says_what_changes_on_how_many_tenants() -> None:
    text = card()
    assert text.startswith("### Approve 3 change(s) on 12 tenant(s) of prod?")
    assert "- **Changes:** 5 add display name · 6 backfill display name · 7 drop name (**irreversible**)" in text
    assert "- **Tenants:** 12 in 3 wave(s), the first is the canary" in text


def test_the_strongest_lock_names_the_table_and_its_blocking_time() -> None:
    text = card()
    # 7.1 blocks reads and writes longest (6.1 is longer but blocks nothing)
    assert ("**ACCESS EXCLUSIVE** on `customers` (step 7.1): blocks reads and writes for about **2.5 s** "
            "per tenant") in text
    assert "- **Expected duration:** about 98.0 s per tenant, 4.9 min for the rollout; blocking 2.9 s" in text


def test_irreversible_changes_name_the_backup_that_covers_them() -> None:
    text = card()
    assert "- **Irreversible:** **7** drop name: drops customers.name. Covered by the backup" in text
    assert "Covered by the backup taken right before the first wave (policy 'destructive', to s3://backups/prod)" \
        in text
    assert "- **If it fails:** On failure, roll back the failed tenant" in text
    assert "- **Window:** Sat 02:00-05:00 Europe/Berlin" in text


def test_only_this_environments_prerequisites_are_listed() -> None:
    text = card()
    assert "Sat 02:00-05:00" in text and "Tue 20:00-22:00" not in text
    assert "- backup: destructive changes: 7" in text


def test_findings_on_rollback_files_are_not_risks_of_the_change() -> None:
    text = card()
    assert "- **warning** DP012 `V7__drop_name.sql:5`: drops a column still read" in text
    assert "DP023" not in text  # the rollback script's note is counted, not listed as a risk
    assert "1 note(s) on the rollback scripts (not risks of the change)" in text
    assert "1 informational note(s) on the change" in text


def test_the_card_links_the_full_plan_and_says_the_typed_name_is_not_verified() -> None:
    text = card()
    assert "[Full plan](http://127.0.0.1:4200/artifacts/artifact/abc): every step" in text
    assert "has no user accounts: the approver below is a typed name that nobody verifies" in text
    assert "Approvers of prod: alice, bob." in text
    assert "Slack approval buttons" in text
    assert "use the **Approve** button in Slack" in card(slack_buttons=True)


def test_no_blocking_step_says_so() -> None:
    plan = readable_plan(a_plan(), MIGRATIONS, "prod")
    plan.steps = [s for s in plan.steps if s.blocks == "none"]
    assert "- **Strongest lock:** no step blocks reads or writes" in card(plan=plan)


def test_paths_become_relative_to_the_migrations_folder() -> None:
    plan = readable_plan(a_plan(), MIGRATIONS, "prod")
    assert [s.where for s in plan.steps] == ["V5__add_display_name.sql:3", "V6__backfill.sql:4", "V7__drop_name.sql:5"]
    assert plan.rollback_steps[0].where == "U5__add_display_name.sql:1"
    assert plan.changes[0].where == "V5__x.sql:1"
    assert relative_to("/elsewhere/x.sql:3", MIGRATIONS) == "/elsewhere/x.sql:3"
    assert relative_to(f"{MIGRATIONS}/sub/x.sql", MIGRATIONS) == "sub/x.sql"
    assert [p.environment for p in plan.prerequisites] == [None, "prod"]


def test_a_long_release_names_a_few_changes_and_every_irreversible_one() -> None:
    plan = readable_plan(a_plan(), MIGRATIONS, "prod")
    plan.changes = [change(str(v), f"change {v}") for v in range(1, 10)] + plan.changes[2:]
    text = card(plan=plan)
    assert "- **Changes:** 1 change 1 · 2 change 2 · 3 change 3 · 4 change 4 · 5 change 5 · 7 drop name " \
           "(**irreversible**) · and 4 more in the full plan" in text


def test_nothing_irreversible_still_names_the_backup() -> None:
    plan = readable_plan(a_plan(), MIGRATIONS, "prod")
    plan.changes = plan.changes[:2]
    assert "- **Irreversible:** nothing: every change has a rollback step (backup: policy" in card(plan=plan)


def test_strongest_lock_of_nothing_is_none() -> None:
    assert strongest_lock([]) is None


def test_steps_tables_put_lock_blocks_estimate_and_rollback_before_the_statement() -> None:
    from dualpath.render.plan_doc import STEP_HEADERS, plan_document

    document = approver_columns(plan_document(readable_plan(a_plan(), MIGRATIONS, "prod")))
    steps = next(s.table for s in document.sections if s.heading == "Steps" and s.table)
    assert steps.headers[:6] == ["Step", "Lock (predicted)", "Blocks", "Estimate", "Rollback", "Statement"]
    assert sorted(steps.headers) == sorted(STEP_HEADERS)  # nothing dropped
    assert steps.rows[0][:6] == ["5.1", "ACCESS EXCLUSIVE", "reads and writes", "400 ms", "irreversible",
                                 "V5__add_display_name.sql:3"]
    changes = next(s.table for s in document.sections if s.heading == "Changes" and s.table)
    assert changes.headers[:4] == ["Version", "Description", "Irreversible", "Estimate"]
    assert changes.rows[2][:3] == ["7", "drop name", "drops customers.name"]
    prereqs = next(s.table for s in document.sections if s.heading == "Prerequisites" and s.table)
    assert prereqs.headers[0] == "Prerequisite"  # other tables keep their order


def test_neither_approval_form_can_be_submitted_without_an_answer() -> None:
    """A form field with a default lets Submit-without-reading answer for the approver (issue 16, item 6)."""
    import pydantic

    from dualpath.flows.approval import ApprovalInput, RollbackInput

    for form, answer in ((ApprovalInput, {"decision": "approve", "approver": "ana"}),
                         (RollbackInput, {"acknowledge": "no", "approver": "ana"})):
        with pytest.raises(pydantic.ValidationError):
            form()
        assert form(**answer)  # with the answer it is accepted
    assert RollbackInput.model_json_schema()["properties"]["acknowledge"]["enum"] == [
        "yes, I have read what stays", "no"]
