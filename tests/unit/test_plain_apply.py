"""The plain apply's choices (dualpath/plain_apply.py) without a server: which changes it takes, how it
groups them into messages, and the tables it creates being the ones SQLAlchemy creates."""

from __future__ import annotations

from datetime import datetime

from dualpath.changes import Change, Statement
from dualpath.engines.postgres.plain import TABLES_DDL
from dualpath.plain_apply import groups_of, is_plain, plain_todo
from dualpath.status import ChangeState


def _change(version: str, *forward: str, rollback: str = "DROP TABLE t", **extra: object) -> Change:
    return Change(version=version, description=f"c{version}", file=f"V{version}__c.sql",
                  forward=tuple(Statement(text, f"V{version}__c.sql", 1) for text in forward),
                  rollback=(Statement(rollback, f"U{version}__c.sql", 1),) if rollback else (), **extra)  # type: ignore[arg-type]


def test_the_tables_it_creates_are_the_ones_sqlalchemy_creates() -> None:
    from sqlalchemy.dialects import postgresql
    from sqlalchemy.schema import CreateIndex, CreateTable

    from dualpath.history.tables import metadata

    dialect = postgresql.psycopg.dialect()  # type: ignore[attr-defined]
    emitted = ""
    for table in metadata.sorted_tables:
        emitted += f"{str(CreateTable(table).compile(dialect=dialect)).strip()};\n"
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            emitted += f"{str(CreateIndex(index).compile(dialect=dialect)).strip()};\n"
    assert emitted.split() == TABLES_DDL.split()


def test_only_plain_transactional_changes_with_a_way_back_are_taken() -> None:
    assert is_plain(_change("1", "CREATE TABLE t (id INT)", "INSERT INTO t VALUES (1)"))
    assert is_plain(_change("1", "CREATE TABLE t (id bigint GENERATED ALWAYS AS IDENTITY)"))
    for refused in (_change("1", "DROP TABLE old"), _change("1", "UPDATE t SET a = 1"),
                    _change("1", "CREATE TABLE t AS SELECT 1"), _change("1", "SET search_path TO x"),
                    _change("1", "DO $$ BEGIN END $$"), _change("1", "CREATE TABLE t (id INT)", rollback=""),
                    _change("1", "CREATE TABLE t (id INT)", "COMMIT"), _change("1", "BEGIN", "CREATE TABLE t (i INT)"),
                    _change("1", "-- first\n/* then */ START TRANSACTION"), _change("1", "savepoint s"),
                    _change("R__views", "CREATE TABLE t (id INT)")):
        assert not is_plain(refused), refused
    concurrently = Change("1", "c", (Statement("CREATE INDEX CONCURRENTLY i ON t (a)", "f", 1, no_transaction=True),),
                          (Statement("DROP INDEX i", "u", 1),), "f")
    gexec = Change("1", "c", (Statement("SELECT 'x'", "f", 1, gexec=True),), (Statement("DROP INDEX i", "u", 1),), "f")
    assert not is_plain(concurrently) and not is_plain(gexec)


def _state(change: Change, state: str) -> ChangeState:
    return ChangeState(change.version, change.description, state, datetime(2026, 1, 1) if state == "applied" else None,
                       change, None)


def test_it_takes_pending_changes_only_after_every_applied_one() -> None:
    one, two, three = _change("1", "CREATE TABLE a (i INT)"), _change("2", "CREATE TABLE b (i INT)"), \
        _change("3", "CREATE TABLE c (i INT)")
    assert plain_todo([_state(one, "applied"), _state(two, "pending"), _state(three, "pending")]) == [two, three]
    assert plain_todo([_state(one, "applied"), _state(two, "applied")]) == []
    assert plain_todo([_state(one, "pending"), _state(two, "applied")]) is None  # out of order: the runner warns
    for other in ("failed", "drifted", "missing", "unrecorded", "unknown"):
        assert plain_todo([_state(one, "applied"), _state(two, other)]) is None, other
    assert plain_todo([_state(one, "applied"), _state(_change("2", "DROP TABLE a"), "pending")]) is None


def test_changes_are_grouped_in_order_by_count_and_size() -> None:
    changes = [_change(str(n), "CREATE TABLE t (id INT)") for n in range(1, 8)]
    assert [[c.version for c in g] for g in groups_of(changes, 3, 1 << 20)] == [["1", "2", "3"], ["4", "5", "6"], ["7"]]
    big = _change("9", "x" * 100)
    assert [[c.version for c in g] for g in groups_of([changes[0], big, changes[1]], 50, 60)] == [["1"], ["9"], ["2"]]
    assert [len(g) for g in groups_of(changes, 1, 1 << 20)] == [1] * 7
