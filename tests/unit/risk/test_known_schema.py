"""Rules that depend on the current schema: with the facts (as ``lint --url`` reads them) they decide;
without them they say what they depend on. The facts here are written by hand; the integration
corpus (tests/integration/test_catalogue_honesty.py) reads them from real servers."""

from __future__ import annotations

from pathlib import Path

import pytest

from dualpath.changes import Change
from dualpath.risk.catalogue import catalogue_for
from dualpath.risk.check import check_change
from dualpath.risk.model import Finding
from dualpath.risk.schema import Check, Column, Estimate, Schema, Sequence
from dualpath.sql import split_statements


def lint(sql: str, schema: Schema | None, dialect: str = "postgresql") -> list[Finding]:
    family = "mysql" if dialect == "mariadb" else dialect
    change = Change(version="1", description="t", forward=tuple(split_statements(sql, file="t.sql", dialect=family)),
                    rollback=(), file="t.sql", layout="file")
    version = (15,) if dialect == "postgresql" else (10, 11)
    return check_change(change, catalogue_for(dialect, version), knows_rollback=False, schema=schema)


def rules(found: list[Finding]) -> dict[str, Finding]:
    return {f.rule: f for f in found if f.severity != "info" or f.depends}


def pg_schema(*columns: Column, **extra: object) -> Schema:
    schema = Schema(flavor="postgresql", version=(15,), settings={"timezone": "Etc/UTC"})
    for column in columns:
        schema.columns.setdefault(column.table, {})[column.name] = column
    for key, value in extra.items():
        setattr(schema, key, value)
    return schema


CODE = Column("public.orders", "code", "character varying(10)", nullable=True)
TOTAL = Column("public.orders", "total", "numeric(10,2)", nullable=True)
PLACED = Column("public.orders", "placed_at", "timestamp without time zone", nullable=True)
SHIPPED = Column("public.orders", "shipped_at", "timestamp without time zone", nullable=True, indexed=True)


@pytest.mark.parametrize(("sql", "rewrites"), [
    ("ALTER TABLE orders ALTER COLUMN code TYPE varchar(50);", False),
    ("ALTER TABLE orders ALTER COLUMN code TYPE text;", False),
    ("ALTER TABLE orders ALTER COLUMN code TYPE varchar;", False),
    ("ALTER TABLE orders ALTER COLUMN code TYPE varchar(8);", True),
    ("ALTER TABLE orders ALTER COLUMN code TYPE text USING code::text;", False),
    ("ALTER TABLE orders ALTER COLUMN code TYPE int USING length(code);", True),
    ("ALTER TABLE orders ALTER COLUMN total TYPE numeric(14, 2);", False),
    ("ALTER TABLE orders ALTER COLUMN total TYPE numeric;", False),
    ("ALTER TABLE orders ALTER COLUMN total TYPE numeric(12, 3);", True),
    ("ALTER TABLE orders ALTER COLUMN total TYPE numeric(9, 2);", True),
    ("ALTER TABLE orders ALTER COLUMN placed_at TYPE timestamptz;", False),
    ("ALTER TABLE orders ALTER COLUMN shipped_at TYPE timestamptz;", True),  # its index is rebuilt
    ("SET timezone = 'Europe/Berlin';\nALTER TABLE orders ALTER COLUMN placed_at TYPE timestamptz;", True),
])
def test_postgresql_type_change_with_the_current_type(sql: str, rewrites: bool) -> None:
    found = rules(lint(sql, pg_schema(CODE, TOTAL, PLACED, SHIPPED)))
    assert ("DP009" in found) is rewrites, found
    assert not any(f.depends for f in found.values())


def test_postgresql_type_change_without_a_server_says_what_it_depends_on() -> None:
    finding = rules(lint("ALTER TABLE orders ALTER COLUMN code TYPE varchar(50);", None))["DP009"]
    assert finding.depends == "the current type of orders.code"
    assert "depends on the current type of orders.code" in finding.message


def test_timestamptz_depends_on_the_time_zone_when_the_server_does_not_say() -> None:
    schema = pg_schema(PLACED)
    schema.settings.clear()
    finding = rules(lint("ALTER TABLE orders ALTER COLUMN placed_at TYPE timestamptz;", schema))["DP009"]
    assert "TimeZone" in finding.depends


def test_a_column_added_earlier_in_the_change_is_known_without_a_server() -> None:
    sql = "ALTER TABLE orders ADD COLUMN memo varchar(10);\nALTER TABLE orders ALTER COLUMN memo TYPE varchar(40);"
    assert "DP009" not in rules(lint(sql, None))


def test_set_not_null_proven_by_a_validated_check() -> None:
    ref = Column("public.orders", "ref", "text", nullable=True)
    proven = pg_schema(ref, checks={"public.orders": [Check("public.orders", "ref_nn", True,
                                                            "CHECK ((ref IS NOT NULL))")]})
    unproven = pg_schema(ref, checks={"public.orders": [Check("public.orders", "ref_nn", False,
                                                              "CHECK ((ref IS NOT NULL)) NOT VALID")]})
    sql = "ALTER TABLE orders ALTER COLUMN ref SET NOT NULL;"
    assert "DP006" not in rules(lint(sql, proven))
    assert not rules(lint(sql, unproven))["DP006"].depends
    assert rules(lint(sql, None))["DP006"].depends


def test_attach_partition_with_a_matching_check_is_not_scanned() -> None:
    at = Column("public.events_2026", "at", "date", nullable=False)
    bound = "CHECK (((at >= '2026-01-01'::date) AND (at < '2027-01-01'::date)))"
    schema = pg_schema(at, partition_keys={"public.events": ["at"]},
                       checks={"public.events_2026": [Check("public.events_2026", "b", True, bound)]})
    proven = "ALTER TABLE events ATTACH PARTITION events_2026 FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');"
    other = "ALTER TABLE events ATTACH PARTITION events_2026 FOR VALUES FROM ('2026-01-01') TO ('2026-07-01');"
    assert "DP060" not in rules(lint(proven, schema))
    assert "DP060" in rules(lint(other, schema))
    assert rules(lint(proven, None))["DP060"].depends


@pytest.mark.parametrize(("last", "reported"), [(None, False), (300, False), (999_999, False), (1_000_000, True),
                                               (5_000_000, True)])
def test_sequence_restart_against_its_current_value(last: int | None, reported: bool) -> None:
    schema = pg_schema(sequences={"public.invoice_seq": Sequence("public.invoice_seq", 1, last)})
    found = rules(lint("ALTER SEQUENCE invoice_seq RESTART WITH 1000000;", schema))
    assert ("DP065" in found) is reported


def test_identity_restart_finds_its_sequence() -> None:
    ident = Column("public.orders", "id", "bigint", nullable=False, sequence="public.orders_id_seq")
    schema = pg_schema(ident, sequences={"public.orders_id_seq": Sequence("public.orders_id_seq", 1, 1000)})
    finding = rules(lint("ALTER TABLE orders ALTER COLUMN id RESTART WITH 1;", schema))["DP065"]
    assert "up to 1000" in finding.message and not finding.depends


def test_domain_constraint_on_an_unused_domain() -> None:
    schema = pg_schema(domains={"public.unused_code": [], "public.weight_kg": ["public.orders.weight"]})
    assert "DP031" not in rules(lint("ALTER DOMAIN unused_code ADD CONSTRAINT c CHECK (VALUE <> '');", schema))
    assert "DP031" in rules(lint("ALTER DOMAIN weight_kg ADD CONSTRAINT c CHECK (VALUE > 0);", schema))


def estimating(share: float, full_scan: bool = False) -> Schema:
    return pg_schema(estimator=lambda sql: Estimate(rows=share * 1000, table_rows=1000, full_scan=full_scan))


@pytest.mark.parametrize(("share", "reported"), [(0.001, False), (0.05, False), (0.1, True), (1.0, True)])
def test_mass_dml_by_the_planner_estimate(share: float, reported: bool) -> None:
    found = rules(lint("UPDATE orders SET note = 'x' WHERE status = 'open';", estimating(share)))
    assert ("DP043" in found) is reported


def test_an_estimate_the_server_cannot_give_is_treated_as_every_row() -> None:
    found = rules(lint("UPDATE orders SET note = 'x' WHERE status = 'open';", pg_schema(estimator=lambda sql: None)))
    assert found["DP043"].severity == "warning" and "could not be estimated" in found["DP043"].message


def test_ddl_then_dml_in_one_transaction_by_the_estimate() -> None:
    sql = "ALTER TABLE orders ADD COLUMN gift boolean;\nUPDATE orders SET gift = true WHERE id = 5;"
    assert "DP044" not in rules(lint(sql, estimating(0.001)))
    assert "DP044" in rules(lint(sql, estimating(0.001, full_scan=True)))  # the lock is held during a scan
    assert rules(lint(sql, None))["DP044"].depends


MY_COLUMNS = (
    Column("db.orders", "code", "varchar(60)", nullable=True, charset="utf8mb4"),
    Column("db.orders", "label", "varchar(200)", nullable=True, charset="latin1"),
    Column("db.orders", "note", "varchar(300)", nullable=True, charset="utf8mb4"),
    Column("db.orders", "mood", "enum('sad','ok','happy')", nullable=True, charset="utf8mb4"),
    Column("db.orders", "qty", "int(11)", nullable=False),
    Column("db.orders", "ref", "varchar(40)", nullable=True, charset="utf8mb4"),
)


def my_schema(fulltext: set[str] | None = None) -> Schema:
    schema = Schema(flavor="mariadb", version=(10, 11), charsets={"db.orders": "utf8mb4", "db.articles": "utf8mb4"},
                    fulltext=fulltext or set(), settings={"sql_mode": "STRICT_TRANS_TABLES"})
    for column in MY_COLUMNS:
        schema.columns.setdefault(column.table, {})[column.name] = column
    return schema


@pytest.mark.parametrize(("sql", "copies", "rebuilds"), [
    ("ALTER TABLE orders MODIFY code VARCHAR(63);", False, False),  # 252 bytes: one length byte still
    ("ALTER TABLE orders MODIFY code VARCHAR(64);", True, False),  # 256 bytes: a second length byte
    ("ALTER TABLE orders MODIFY label VARCHAR(255) CHARACTER SET latin1;", False, False),
    ("ALTER TABLE orders MODIFY label VARCHAR(256) CHARACTER SET latin1;", True, False),
    ("ALTER TABLE orders MODIFY label VARCHAR(200);", True, False),  # the table's utf8mb4: a new charset
    ("ALTER TABLE orders MODIFY note VARCHAR(500);", False, False),
    ("ALTER TABLE orders MODIFY code VARCHAR(30);", True, False),
    ("ALTER TABLE orders MODIFY mood ENUM('sad', 'ok', 'happy', 'great');", False, False),
    ("ALTER TABLE orders MODIFY mood ENUM('meh', 'sad', 'ok', 'happy');", True, False),
    ("ALTER TABLE orders MODIFY qty INT NOT NULL COMMENT 'pieces';", False, False),
    ("ALTER TABLE orders MODIFY qty BIGINT NOT NULL;", True, False),
    ("ALTER TABLE orders MODIFY qty INT NULL;", False, True),
    ("ALTER TABLE orders MODIFY ref VARCHAR(40) NOT NULL;", False, True),
    ("ALTER TABLE orders CHANGE code code VARCHAR(62);", False, False),
])
def test_mariadb_column_change_with_the_current_definition(sql: str, copies: bool, rebuilds: bool) -> None:
    found = lint(sql, my_schema(), dialect="mariadb")
    assert ("DP051" in {f.rule for f in found}) is copies, found
    assert ("DP052" in {f.rule for f in found}) is rebuilds, found
    assert not any(f.depends for f in found)
    assert all(f.severity == "info" for f in found if f.rule == "DP052")  # online: a note


def test_mariadb_column_change_without_a_server_depends_on_the_definition() -> None:
    finding = next(f for f in lint("ALTER TABLE orders MODIFY code VARCHAR(63);", None, dialect="mariadb")
                   if f.rule == "DP051")
    assert finding.depends == "the current definition of orders.code"


def test_mariadb_add_column_to_a_table_with_a_fulltext_index_blocks_writes() -> None:
    sql = "ALTER TABLE articles ADD COLUMN views INT;"
    blocked = [f for f in lint(sql, my_schema({"db.articles"}), dialect="mariadb") if f.severity != "info"]
    assert [f.rule for f in blocked] == ["DP052"]
    assert not [f for f in lint(sql, my_schema(), dialect="mariadb") if f.severity != "info" or f.depends]
    assert any(f.depends for f in lint(sql, None, dialect="mariadb"))
    assert not any(f.depends for f in lint("ALTER TABLE articles ADD COLUMN v INT, ALGORITHM=INSTANT;", None,
                                           dialect="mariadb"))


def test_json_output_names_what_a_finding_depends_on(tmp_path: Path) -> None:
    import json

    from dualpath.lint import run_lint

    sql = tmp_path / "a.sql"
    sql.write_text("ALTER TABLE orders ALTER COLUMN code TYPE varchar(50);\nALTER TABLE orders DROP COLUMN note;\n")
    out, _ = run_lint([sql], dialect="postgresql", fmt="json")
    found = {f["rule"]: f for f in json.loads(out)}
    assert found["DP009"]["depends"] == "the current type of orders.code"
    assert "depends" not in found["DP012"]  # known from the SQL alone
