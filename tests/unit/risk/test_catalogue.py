"""The catalogue answers per engine and version, and statements are classified to the right row."""

from __future__ import annotations

import pytest

from dualpath.changes import Change
from dualpath.errors import UsageError
from dualpath.risk.catalogue import catalogue_for
from dualpath.risk.check import build_context
from dualpath.risk.classify import classify
from dualpath.risk.model import Effect
from dualpath.sql import split_statements


def one(sql: str, dialect: str, version: tuple[int, ...] | None = None) -> Effect:
    """The statement's one effect on the table it names (referenced tables and partitions are tested apart)."""
    effects = [e for e in classify(sql, dialect, version) if e.operation not in ("reference_table", "partition_table")]
    assert len(effects) == 1, effects
    return effects[0]


def in_change(sql: str, dialect: str, version: tuple[int, ...]) -> list[Effect]:
    """Effects of the last statement when the earlier ones ran first in the same change."""
    stmts = tuple(split_statements(sql, file="x.sql", dialect=dialect))
    change = Change(version="1", description="x", forward=stmts, rollback=(), file="x.sql")
    ctx = build_context(change, catalogue_for(dialect, version), knows_rollback=False)
    return ctx.forward[-1].effects


@pytest.mark.parametrize(("version", "cost"), [((10,), "rewrite"), ((11,), "metadata"), ((16,), "metadata")])
def test_pg_add_column_with_constant_default_is_fast_from_11(version: tuple[int, ...], cost: str) -> None:
    effect = one("ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT 0", "postgresql", version)
    assert (effect.lock, effect.cost) == ("ACCESS EXCLUSIVE", cost)


@pytest.mark.parametrize("column", [
    "u uuid DEFAULT gen_random_uuid()", "r float DEFAULT random()", "id serial",
    "n int GENERATED ALWAYS AS (a * 2) STORED", "i bigint GENERATED ALWAYS AS IDENTITY",
])
def test_pg_volatile_values_force_a_rewrite_on_every_version(column: str) -> None:
    assert one(f"ALTER TABLE t ADD COLUMN {column}", "postgresql", (16,)).cost == "rewrite"


def test_pg_now_is_stable_not_volatile() -> None:
    assert one("ALTER TABLE t ADD COLUMN at timestamptz DEFAULT now()", "postgresql", (16,)).cost == "metadata"


@pytest.mark.parametrize(("version", "cost", "lock"), [
    ((11,), "unsupported", "SHARE"), ((12,), "build", "SHARE UPDATE EXCLUSIVE"),
])
def test_pg_reindex_concurrently_needs_12(version: tuple[int, ...], cost: str, lock: str) -> None:
    effect = one("REINDEX INDEX CONCURRENTLY i", "postgresql", version)
    assert (effect.cost, effect.lock) == (cost, lock)
    assert catalogue_for("postgresql", version).supports("reindex_concurrently") is (version >= (12,))


@pytest.mark.parametrize(("version", "cost", "lock"), [
    ((13,), "unsupported", "ACCESS EXCLUSIVE"), ((14,), "metadata", "SHARE UPDATE EXCLUSIVE"),
])
def test_pg_detach_partition_concurrently_needs_14(version: tuple[int, ...], cost: str, lock: str) -> None:
    effect = one("ALTER TABLE m DETACH PARTITION m1 CONCURRENTLY", "postgresql", version)
    assert (effect.cost, effect.lock) == (cost, lock)


@pytest.mark.parametrize(("sql", "lock", "cost", "blocks"), [
    ("CREATE INDEX i ON t (a)", "SHARE", "build", "writes"),
    ("CREATE INDEX CONCURRENTLY i ON t (a)", "SHARE UPDATE EXCLUSIVE", "build", "none"),
    ("DROP INDEX i", "ACCESS EXCLUSIVE", "metadata", "reads and writes"),
    ("ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES p (id)", "SHARE ROW EXCLUSIVE (both tables)",
     "scan", "writes"),
    ("ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES p (id) NOT VALID",
     "SHARE ROW EXCLUSIVE (both tables)", "metadata", "writes"),
    ("ALTER TABLE t VALIDATE CONSTRAINT f", "SHARE UPDATE EXCLUSIVE", "scan", "none"),
    ("ALTER TABLE t ALTER COLUMN a TYPE bigint", "ACCESS EXCLUSIVE", "rewrite", "reads and writes"),
    ("ALTER TABLE t ALTER COLUMN a SET NOT NULL", "ACCESS EXCLUSIVE", "scan", "reads and writes"),
    ("ALTER TABLE t ADD CONSTRAINT u UNIQUE USING INDEX i", "ACCESS EXCLUSIVE", "metadata", "reads and writes"),
    ("VACUUM FULL t", "ACCESS EXCLUSIVE", "rewrite", "reads and writes"),
    ("LOCK TABLE t IN SHARE MODE", "SHARE", "none", "writes"),
    ("REFRESH MATERIALIZED VIEW CONCURRENTLY m", "EXCLUSIVE", "rewrite", "writes"),
])
def test_pg_lock_modes(sql: str, lock: str, cost: str, blocks: str) -> None:
    effect = one(sql, "postgresql")
    assert (effect.lock, effect.cost, effect.blocks) == (lock, cost, blocks)


@pytest.mark.parametrize(("version", "cost"), [((11,), "scan"), ((12,), "metadata")])
def test_pg_set_not_null_uses_a_validated_check_from_12(version: tuple[int, ...], cost: str) -> None:
    sql = ("ALTER TABLE t ADD CONSTRAINT c CHECK (a IS NOT NULL) NOT VALID;\n"
           "ALTER TABLE t VALIDATE CONSTRAINT c;\n"
           "ALTER TABLE t ALTER COLUMN a SET NOT NULL;")
    assert in_change(sql, "postgresql", version)[0].cost == cost


def test_pg_unvalidated_check_does_not_help_set_not_null() -> None:
    sql = ("ALTER TABLE t ADD CONSTRAINT c CHECK (a IS NOT NULL) NOT VALID;\n"
           "ALTER TABLE t ALTER COLUMN a SET NOT NULL;")
    assert in_change(sql, "postgresql", (16,))[0].cost == "scan"


@pytest.mark.parametrize(("sql", "algorithm", "lock", "cost"), [
    ("ALTER TABLE t ADD COLUMN c INT", "INSTANT", "NONE", "metadata"),
    ("ALTER TABLE t MODIFY COLUMN c BIGINT", "COPY", "SHARED", "rewrite"),
    ("ALTER TABLE t ADD INDEX i (c)", "INPLACE", "NONE", "build"),
    ("CREATE INDEX i ON t (c)", "INPLACE", "NONE", "build"),
    ("ALTER TABLE t ADD FULLTEXT INDEX ft (body)", "INPLACE", "SHARED", "rewrite"),
    ("ALTER TABLE t ADD PRIMARY KEY (id)", "INPLACE", "NONE", "rewrite"),
    ("ALTER TABLE t DROP PRIMARY KEY", "COPY", "SHARED", "rewrite"),
    ("ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4", "COPY", "SHARED", "rewrite"),
    ("ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES p (id)", "COPY", "SHARED", "rewrite"),
    ("ALTER TABLE t ADD COLUMN id2 INT AUTO_INCREMENT", "COPY", "SHARED", "rewrite"),
    ("ALTER TABLE t ALTER COLUMN c SET DEFAULT 1", "INSTANT", "NONE", "metadata"),
])
def test_mysql_8_algorithm_and_lock(sql: str, algorithm: str, lock: str, cost: str) -> None:
    effect = one(sql, "mysql", (8, 0, 36))
    assert (effect.algorithm, effect.lock, effect.cost) == (algorithm, lock, cost)


def test_mysql_foreign_key_with_checks_off_is_in_place() -> None:
    sql = "SET foreign_key_checks = 0;\nALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES p (id);"
    effect = in_change(sql, "mysql", (8, 0, 36))[0]
    assert (effect.algorithm, effect.cost) == ("INPLACE", "metadata")


@pytest.mark.parametrize(("dialect", "version", "sql", "algorithm"), [
    ("mysql", (8, 0, 11), "ALTER TABLE t ADD COLUMN c INT", "INPLACE"),
    ("mysql", (8, 0, 12), "ALTER TABLE t ADD COLUMN c INT", "INSTANT"),
    ("mysql", (8, 0, 28), "ALTER TABLE t ADD COLUMN c INT AFTER a", "INPLACE"),
    ("mysql", (8, 0, 29), "ALTER TABLE t ADD COLUMN c INT AFTER a", "INSTANT"),
    ("mysql", (8, 0, 28), "ALTER TABLE t DROP COLUMN c", "INPLACE"),
    ("mysql", (8, 0, 29), "ALTER TABLE t DROP COLUMN c", "INSTANT"),
    ("mariadb", (10, 3), "ALTER TABLE t ADD COLUMN c INT FIRST", "INPLACE"),
    ("mariadb", (10, 4), "ALTER TABLE t ADD COLUMN c INT FIRST", "INSTANT"),
    ("mariadb", (10, 6), "ALTER TABLE t DROP COLUMN c", "INSTANT"),
])
def test_mysql_and_mariadb_instant_by_version(dialect: str, version: tuple[int, ...], sql: str,
                                              algorithm: str) -> None:
    assert one(sql, dialect, version).algorithm == algorithm


@pytest.mark.parametrize(("sql", "version", "cost"), [
    ("ALTER TABLE t ADD COLUMN c TEXT", (3, 45), "metadata"),
    ("ALTER TABLE t ADD COLUMN c TEXT NOT NULL", (3, 45), "unsupported"),
    ("ALTER TABLE t ADD COLUMN c TEXT DEFAULT CURRENT_TIMESTAMP", (3, 45), "unsupported"),
    ("ALTER TABLE t ADD COLUMN c INTEGER UNIQUE", (3, 45), "unsupported"),
    ("ALTER TABLE t DROP COLUMN c", (3, 34), "unsupported"),
    ("ALTER TABLE t DROP COLUMN c", (3, 35), "rewrite"),
    ("ALTER TABLE t RENAME COLUMN a TO b", (3, 24), "unsupported"),
    ("ALTER TABLE t RENAME COLUMN a TO b", (3, 25), "metadata"),
    ("ALTER TABLE t ALTER COLUMN c TYPE REAL", (3, 45), "unsupported"),
    ("ALTER TABLE t RENAME TO u", (3, 45), "metadata"),
])
def test_sqlite_alter_forms_and_rebuilds(sql: str, version: tuple[int, ...], cost: str) -> None:
    assert one(sql, "sqlite", version).cost == cost


def test_unknown_dialect_is_a_usage_error_with_choices() -> None:
    with pytest.raises(UsageError) as info:
        catalogue_for("oracle", None)
    assert "postgresql" in str(info.value)


def test_default_version_is_the_newest() -> None:
    assert catalogue_for("postgresql").supports("detach_concurrently")
    assert catalogue_for("mysql").supports("instant_drop_column")


@pytest.mark.parametrize("sql", [
    "CREATE TABLE invoices (id bigint PRIMARY KEY, customer_id bigint REFERENCES customers (id))",
    "CREATE TABLE invoices (id bigint, customer_id bigint, FOREIGN KEY (customer_id) REFERENCES customers)",
    "ALTER TABLE invoices ADD CONSTRAINT f FOREIGN KEY (customer_id) REFERENCES customers (id)",
    "ALTER TABLE invoices ADD CONSTRAINT f FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID",
    "ALTER TABLE invoices ADD COLUMN customer_id bigint REFERENCES customers",
])
def test_pg_foreign_key_locks_the_referenced_table(sql: str) -> None:
    # measured by the lock rehearsal (DP062): the referenced table gets the foreign key's triggers
    effects = [e for e in classify(sql, "postgresql", (15,)) if e.table == "customers"]
    assert [(e.operation, e.lock, e.blocks, e.cost) for e in effects] == [
        ("reference_table", "SHARE ROW EXCLUSIVE", "writes", "none")]


def test_pg_a_referenced_table_created_in_the_same_change_is_new() -> None:
    stmts = tuple(split_statements("CREATE TABLE customers (id bigint PRIMARY KEY);\n"
                                   "CREATE TABLE invoices (id bigint, customer_id bigint REFERENCES customers);",
                                   file="x.sql", dialect="postgresql"))
    change = Change(version="1", description="x", forward=stmts, rollback=(), file="x.sql")
    item = build_context(change, catalogue_for("postgresql", (15,)), knows_rollback=False).forward[-1]
    assert [e.operation for e in item.effects if e.table == "customers"] == ["reference_table"]
    assert item.is_new("customers")


@pytest.mark.parametrize(("sql", "lock"), [
    ("ALTER TABLE events ATTACH PARTITION events_2025 FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
     "ACCESS EXCLUSIVE"),
    ("ALTER TABLE events DETACH PARTITION events_2025", "ACCESS EXCLUSIVE"),
    ("ALTER TABLE events DETACH PARTITION events_2025 CONCURRENTLY", "ACCESS EXCLUSIVE"),
])
def test_pg_attach_and_detach_lock_the_partition_itself(sql: str, lock: str) -> None:
    # measured by the lock rehearsal: the partition is locked apart from its parent
    effects = [e for e in classify(sql, "postgresql", (15,)) if e.table == "events_2025"]
    assert [(e.operation, e.lock) for e in effects] == [("partition_table", lock)]
