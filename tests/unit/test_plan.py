"""build_plan without a server: steps, locks from the catalogue, estimates from sizes and throughput."""

from __future__ import annotations

import json

import pytest

from dualpath.changes import Change, Directive, Statement
from dualpath.config import Environment, Settings
from dualpath.engines.probes import TableStats
from dualpath.estimates import Throughput, load_throughput, save_throughput
from dualpath.plan import Plan, TargetState, build_plan
from dualpath.rehearse import Measured

MB = 1 << 20
SPEED = Throughput(engine="postgresql", index_rows_per_s=100_000, rewrite_bytes_per_s=10 * MB,
                   update_rows_per_s=50_000, metadata_s=0.01, index_bytes_per_row=20, source="measured",
                   measured_at="2024-05-01T00:00:00Z")


def _change(version: str, forward: list[str], rollback: list[str], **extra: object) -> Change:
    up = tuple(Statement(sql, f"V{version}.sql", n) for n, sql in enumerate(forward, 1))
    down = tuple(Statement(sql, f"U{version}.sql", n) for n, sql in enumerate(rollback, 1))
    return Change(version, f"change {version}", up, down, f"V{version}.sql", rollback_file=f"U{version}.sql",
                  **extra)  # type: ignore[arg-type]


def _irreversible() -> Directive:
    return Directive("irreversible", {"reason": "drops notes"}, "V3.sql", 1)


def sample_plan() -> Plan:
    """Four changes on a 1M-row orders table, two environments, one measured lock."""
    target = TargetState("prod", "postgresql", (16,), transactional_ddl=True,
                         sizes={"public.orders": TableStats(1_000_000, 200 * MB), "notes": TableStats(10, 8192)})
    changes = [
        _change("1", ["CREATE INDEX orders_k ON orders (k)", "ALTER TABLE orders ALTER COLUMN k TYPE bigint"],
                ["DROP INDEX orders_k"]),
        _change("2", ["UPDATE orders SET k = k + 1"], ["UPDATE orders SET k = k - 1"]),
        _change("3", ["DROP TABLE notes"], [], directives=(_irreversible(),)),
        _change("4", ["GRANT SELECT ON orders TO reporting"], ["REVOKE SELECT ON orders FROM reporting"]),
    ]
    measured = [Measured("1", "V1.sql:2", "orders", "alter_column_type", "ACCESS EXCLUSIVE", True,
                         "ACCESS EXCLUSIVE", True, False)]
    return build_plan(changes, target, settings=sample_settings(), throughput=SPEED, measured=measured)


def sample_settings() -> Settings:
    return Settings(ticket_link="https://t.example/{ticket}", owners={"dba": "dba-team"},
                    escalation=["on-call DBA", "head of platform"], impact={"orders": "checkout waits"},
                    environments={
                        "staging": Environment(approval="never"),
                        "prod": Environment(approval="irreversible", approvers=["alice", "bob"],
                                            window="Sat 02:00-05:00 UTC")})


@pytest.fixture
def plan() -> Plan:
    return sample_plan()


def test_steps_carry_catalogue_locks_estimates_and_rollbacks(plan: Plan) -> None:
    index, rewrite = plan.step("1.1"), plan.step("1.2")
    assert (index.lock, index.blocks, index.cost, index.rewrite) == ("SHARE", "writes", "build", False)
    assert index.rows == 1_000_000
    assert index.seconds == pytest.approx(0.01 + 10.0)  # 1M rows at 100k rows/s
    assert index.disk_bytes == index.wal_bytes == 20_000_000
    assert (rewrite.lock, rewrite.rewrite, rewrite.disk_bytes) == ("ACCESS EXCLUSIVE", True, 200 * MB)
    assert rewrite.seconds == pytest.approx(0.01 + 20.0)  # 200 MB at 10 MB/s
    assert rewrite.measured_lock == "ACCESS EXCLUSIVE on orders" and rewrite.measured_rewrite is True
    assert index.rollback == rewrite.rollback == ["R1.1"]
    assert plan.step("R1.1").sql == "DROP INDEX orders_k"
    assert index.transaction == "one transaction for the whole change"
    assert any("free space on the data volume ≥ 22.9 MB" in g for g in index.gates)
    assert any("lock timeout (2000 ms)" in g for g in rewrite.gates)


def test_dml_estimate_and_irreversible_steps(plan: Plan) -> None:
    update = plan.step("2.1")
    assert (update.rows, update.seconds) == (1_000_000, pytest.approx(0.01 + 20.0))
    drop = plan.step("3.1")
    assert drop.irreversible and drop.rollback == []
    assert any("verified backup of notes" in g for g in drop.gates)


def test_changes_have_category_ticket_and_irreversibility(plan: Plan) -> None:
    by_version = {c.version: c for c in plan.changes}
    assert [by_version[v].category for v in "1234"] == ["DDL", "DML", "DDL", "permissions"]
    assert by_version["1"].categories == ["DDL", "index tuning"]
    assert by_version["3"].irreversible == "drops notes"
    assert by_version["1"].ticket is None  # no ticket in "change 1"


def test_prerequisites_name_who_approves(plan: Plan) -> None:
    needs = {(p.name, p.environment): p for p in plan.prerequisites}
    assert needs[("backup", None)].required and needs[("backup", None)].who == ["dba-team"]
    assert needs[("approval", "prod")].required and needs[("approval", "prod")].who == ["alice", "bob"]
    assert not needs[("approval", "staging")].required
    assert needs[("window", "prod")].reason == "runs only within Sat 02:00-05:00 UTC"


def test_totals_and_json_fields(plan: Plan) -> None:
    data = json.loads(json.dumps(plan.as_dict(), default=str))
    assert set(data) >= {"target", "engine", "version", "changes", "steps", "rollback_steps", "findings",
                         "prerequisites", "totals", "throughput", "rehearsed"}
    assert data["totals"]["rewrite_bytes"] == 200 * MB
    assert data["totals"]["steps"] == 5
    assert data["totals"]["seconds"] == pytest.approx(sum(s["seconds"] for s in data["steps"]))
    assert data["throughput"]["source"] == "measured"
    step = data["steps"][0]
    assert set(step) >= {"id", "version", "where", "sql", "lock", "blocks", "rewrite", "transaction", "rows",
                         "seconds", "wal_bytes", "gates", "irreversible", "rollback", "measured_lock"}
    rules = {f["rule"] for f in data["findings"]}
    assert "DP001" in rules  # CREATE INDEX without CONCURRENTLY, from the risk engine


def test_new_tables_block_nobody() -> None:
    target = TargetState("t", "postgresql", (16,), transactional_ddl=True)
    plan = build_plan([_change("1", ["CREATE TABLE t (id int)", "CREATE INDEX t_i ON t (id)"], ["DROP TABLE t"])],
                      target)
    assert [s.blocks for s in plan.steps] == ["none", "none"]
    assert plan.throughput.source == "default"


def test_calibration_round_trips_through_its_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert load_throughput(tmp_path, "postgresql").source == "default"
    path = save_throughput(tmp_path, SPEED)
    assert path == tmp_path / ".dualpath" / "calibration-postgresql.json"
    assert load_throughput(tmp_path, "postgresql") == SPEED


def test_a_lock_stronger_than_predicted_is_a_dp062_finding_with_an_inline_ignore() -> None:
    target = TargetState("prod", "postgresql", (15,), transactional_ddl=True,
                         sizes={"customers": TableStats(10, 8192)})
    sql = "CREATE TABLE invoices (id bigint, customer_id bigint REFERENCES customers)"
    measured = [Measured("1", "V1.sql:1", "customers", "reference_table", "ROW SHARE", False,
                         "ACCESS EXCLUSIVE", False, True, method="pg_locks of the session, before COMMIT")]
    plan = build_plan([_change("1", [sql], ["DROP TABLE invoices"])], target, measured=measured)
    found = [f for f in plan.findings if f.rule == "DP062"]
    assert [(f.file, f.line, f.severity) for f in found] == [("V1.sql", 1, "warning")]
    assert "ACCESS EXCLUSIVE measured on customers" in found[0].message and "pg_locks" in found[0].message
    ignored = Statement(sql, "V1.sql", 1, directives=(Directive("ignore", {"rules": "DP062", "reason": "x"},
                                                                "V1.sql", 1),))
    quiet = Change("1", "c", (ignored,), (Statement("DROP TABLE invoices", "U1.sql", 1),), "V1.sql")
    assert not [f for f in build_plan([quiet], target, measured=measured).findings if f.rule == "DP062"]


def test_the_catalogue_predicts_the_referenced_tables_lock() -> None:
    target = TargetState("prod", "postgresql", (15,), transactional_ddl=True)
    sql = "CREATE TABLE invoices (id bigint, customer_id bigint REFERENCES customers)"
    step = build_plan([_change("1", [sql], ["DROP TABLE invoices"])], target).steps[0]
    assert step.tables == ["customers", "invoices"]
    assert (step.lock, step.blocks) == ("SHARE ROW EXCLUSIVE", "writes")


def test_update_rows_come_from_the_planner_estimate_when_known() -> None:
    sql = "UPDATE orders SET k = 0 WHERE id < 1000"
    sizes = {"orders": TableStats(1_000_000, 100 * MB)}
    whole = TargetState("prod", "postgresql", (16,), transactional_ddl=True, sizes=sizes)
    planned = TargetState("prod", "postgresql", (16,), transactional_ddl=True, sizes=sizes,
                          statement_rows={sql: 1000})
    change = _change("1", [sql], ["UPDATE orders SET k = 1 WHERE id < 1000"])
    assert build_plan([change], whole, throughput=SPEED).steps[0].rows == 1_000_000
    step = build_plan([change], planned, throughput=SPEED).steps[0]
    assert step.rows == 1000 and step.seconds == pytest.approx(0.01 + 1000 / 50_000)
