"""Risks, briefing, follow-ups and the FAQ as data, from a plan on known sizes (no server)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from dualpath.config import DocOwners, DocsConfig, Environment, Settings
from dualpath.engines.probes import TableStats
from dualpath.plan import TargetState, build_plan
from dualpath.render.briefing import briefing
from dualpath.render.display import relative_to, shown_target
from dualpath.render.faq import update_faq
from dualpath.render.inputs import BackupNote, DocInputs
from dualpath.render.records import RunRecords
from dualpath.render.report import report
from dualpath.render.risks import appendix_findings, derive_risks
from tests.unit.test_plan import MB, SPEED, _change, _irreversible, sample_settings

TARGET = TargetState("prod", "postgresql", (16,), transactional_ddl=True,
                     sizes={"public.orders": TableStats(1_000_000, 200 * MB), "notes": TableStats(10, 8192)})
CHANGES = [
    _change("1", ["CREATE INDEX orders_k ON orders (k)", "ALTER TABLE orders ALTER COLUMN k TYPE bigint"],
            ["DROP INDEX orders_k"]),
    _change("2", ["UPDATE orders SET k = k + 1"], ["UPDATE orders SET k = k - 1"]),
    _change("3", ["DROP TABLE notes"], [], directives=(_irreversible(),)),
]


def _inputs(settings: Settings | None = None, **extra: object) -> DocInputs:
    settings = settings or sample_settings()
    plan = build_plan(CHANGES, TARGET, settings=settings, throughput=SPEED)
    return DocInputs(plan, settings, RunRecords(), CHANGES, TARGET, **extra)  # type: ignore[arg-type]


def test_each_hazard_is_one_risk_with_sizes_mitigation_trigger_and_owner() -> None:
    risks = {(r.kind, r.steps[0]): r for r in derive_risks(_inputs())}
    loss = risks[("data loss", "3.1")]
    assert loss.title == "Irreversible loss of notes (10 rows)"
    assert "backup of notes the run takes" in loss.what and loss.likelihood == "certain once the step runs"
    assert "rename notes aside" in loss.mitigation
    index_and_rewrite = risks[("blocking lock", "1.1")]
    assert index_and_rewrite.steps == ["1.1", "1.2"]
    assert "CREATE INDEX CONCURRENTLY" in index_and_rewrite.mitigation
    assert "expand/contract" in index_and_rewrite.mitigation
    assert "retried 3 times" in index_and_rewrite.trigger and index_and_rewrite.impact == "high"
    update = risks[("heavy data change", "2.1")]
    assert "1,000,000 rows of orders" in update.what and "WAL/binlog" in update.what
    assert "-- dualpath:batch" in update.mitigation  # not batched yet: the mitigation says how
    # the forward file's finding and the rollback file's twin are evidence of the one risk
    assert [e.split()[0] for e in update.evidence] == ["DP042", "DP042"]
    assert sum(r.kind == "heavy data change" and r.steps == ["2.1"] for r in risks.values()) == 1


def test_info_findings_are_no_entries_but_in_the_appendix() -> None:
    inputs = _inputs()
    risks = derive_risks(inputs)
    infos = [f for f in inputs.plan.findings if f.severity == "info"]
    assert infos and not any(r.kind == "finding" and r.evidence[0].split()[0] == f.rule for r in risks for f in infos)
    assert set(map(id, infos)) <= set(map(id, appendix_findings(inputs, risks)))


def test_owner_by_table_then_ticket_then_schema() -> None:
    owners = DocOwners(tables={"notes": "content-team"}, schemas={"public": "platform"})
    settings = sample_settings().model_copy(update={"docs": DocsConfig(owners=owners), "owners": {}})
    risks = derive_risks(_inputs(settings))
    assert {r.owner for r in risks if "notes" in r.title} == {"content-team"}
    assert {r.owner for r in risks if "orders" in r.title} == {"platform"}


def test_an_existing_backup_is_named() -> None:
    note = BackupNote("prod-20260101T000000Z", "2026-01-01T00:00:00Z", ("notes",), ("3",), 10)
    loss = next(r for r in derive_risks(_inputs(backups=[note])) if r.kind == "data loss")
    assert "Backup prod-20260101T000000Z" in loss.what


def test_briefing_is_for_one_environment_with_waves_impact_and_missing() -> None:
    settings = sample_settings()
    settings.environments["prod"] = Environment(approval="irreversible", approvers=["alice"],
                                                window="Sat 02:00-05:00 UTC", tenant_names=["a", "b", "c"],
                                                canary=["a"], wave_size=2,
                                                tenant_url_template="postgresql://app@db/{tenant}")
    settings.slack = {"oncall_mention": "<!subteam^S123>", "channels": {"prod": "#db-changes"}}
    doc = briefing(_inputs(settings, env="prod"))
    facts = dict(doc.facts)
    assert facts["Window"] == "Sat 02:00-05:00 UTC" and facts["Tenants"] == "3"
    assert facts["On-call"] == "<!subteam^S123>"
    assert "staging" not in str(doc.as_dict())  # only the run at hand
    waves = doc.section("The run").table
    assert waves is not None and waves.rows == [["1", "a", "canary"], ["2", "b, c", ""]]
    impact = doc.section("Expected user impact").table
    assert impact is not None and [r[0] for r in impact.rows] == ["1.1", "1.2", "2.1", "3.1"]
    update = next(r for r in impact.rows if r[0] == "2.1")[2]
    assert update.startswith("writes to the 1,000,000 rows of orders being updated wait for about 20.0 s")
    assert "on-call in Slack: <!subteam^S123> in #db-changes" in doc.section("Escalation path").items
    assert doc.section("Missing").items == [
        "missing: the service level the blocking time is judged against (`sla`)",
        "missing: what users notice on notes (`[impact]`); derived from the operations meanwhile"]


def _records() -> RunRecords:
    at = datetime(2026, 12, 4, 10, 0)
    history = [{"id": 1, "version": "2", "description": "change 2", "direction": "up", "applied_at": at,
                "applied_by": "alice", "duration_ms": 30000, "success": True, "run_id": "r1", "detail": None}]
    audit = [{"at": at, "action": "lock-timeout", "version": "2", "run_id": "r1", "who": "alice", "host": "h",
              "ticket": None, "detail": '{"at": "V2.sql:1", "attempt": 1}'},
             {"at": at, "action": "approval", "version": None, "run_id": "r1", "who": "flow", "host": "h",
              "ticket": "OPS-1", "detail": '{"approver": "bob"}'}]
    audit.append({"at": at, "action": "validation", "version": None, "run_id": "r1", "who": "alice", "host": "h",
                  "ticket": None, "detail": '{"tenant": "north", "passed": false, "outcomes": ['
                  '{"expectation": "expect_column_values_to_not_be_null", "table": "orders", "success": false},'
                  '{"expectation": "expect_table_row_count_to_equal", "table": "orders", "success": true}]}'})
    batches = [{"version": "2", "direction": "up", "rows_done": 999_000}]
    return RunRecords(history, audit, batches)


def test_report_compares_estimate_and_actual_and_lists_follow_ups() -> None:
    inputs = _inputs()
    inputs.records = _records()
    doc = report(inputs, [build_plan(CHANGES[1:2], TARGET, throughput=SPEED)])
    runs = doc.section("Runs").table
    assert runs is not None and runs.rows[0][5] == "bob (OPS-1)"
    row = doc.section("Changes: actual against estimate").table.rows[0]  # type: ignore[union-attr]
    assert row[1:] == ["2", "up", "ok", "2.1", "20.0 s", "30.0 s", "1.5×", "1 (V2.sql:1)", "999,000"]
    validation = doc.section("Validation")
    assert validation.tone == "danger" and validation.table is not None
    assert validation.table.rows[0][2:] == ["north", "failed", "1 of 2",
                                            "expect_column_values_to_not_be_null on orders"]
    assert doc.section("Rollbacks").items == ["none"]
    follow = doc.section("Follow-ups").items
    assert any(i.startswith("Irreversible clean-up 3 change 3") or i.startswith("Contract step 3") for i in follow)
    inputs.records.history.append({**inputs.records.history[0], "id": 2, "run_id": "r2", "direction": "down",
                                   "success": False, "duration_ms": 500,
                                   "detail": '{"error": "lock timeout", "at": "U2.sql:1"}'})
    again = report(inputs)
    assert again.section("Rollbacks").items == ["2 rolled back in run r2 by alice (failed, 500 ms)"]
    assert "prod: 2 down failed at U2.sql:1: lock timeout; fix the cause and run again (rolled back)" in \
        again.section("Follow-ups").items


def test_faq_appends_a_section_per_run_and_keeps_human_edits(tmp_path: Path) -> None:
    settings = sample_settings().model_copy(update={"root": tmp_path, "source": tmp_path / "dualpath.toml"})
    assert update_faq(_inputs(sample_settings())) is None  # no dualpath.toml read: no FAQ anywhere
    inputs = _inputs(settings)
    inputs.records = _records()
    path = update_faq(inputs)
    assert path == tmp_path / "docs" / "faq.md"
    text = path.read_text()
    assert "<!-- dualpath:run r1 begin -->" in text and "lock-timeout at V2.sql:1 (change 2)" in text
    assert "1 change 1 (pending) works on orders, which 2 changed" in text and "in one transaction" in text
    edited = text.replace("- none came up", "- a person wrote this") + "\n## Our own notes\nkeep me\n"
    edited = edited.replace("lock-timeout at V2.sql:1", "lock-timeout (edited by ops)")
    path.write_text(edited)
    inputs.records.history.append({**inputs.records.history[0], "id": 2, "run_id": "r2"})
    update_faq(inputs)
    again = path.read_text()
    assert again.startswith(edited) and "lock-timeout (edited by ops)" in again and "keep me" in again
    assert again.count("dualpath:run r1 begin") == 1 and "<!-- dualpath:run r2 begin -->" in again


def test_target_and_paths_as_the_user_wrote_them() -> None:
    assert shown_target("postgresql+psycopg://app:s3cret@db:5432/shop") == "postgresql://app:***@db:5432/shop"
    assert shown_target("prod") == "prod"
    root = Path("/home/u/project/db/migrations")
    text = f"{root}/V7__drop.sql:5 and {root.parent}/x.sql"
    assert relative_to(text, [root, root.parent]) == "V7__drop.sql:5 and x.sql"
