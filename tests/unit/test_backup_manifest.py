"""Backup pieces that need no server: ids, manifests, retention, scoping, destinations, tools."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dualpath.backup import (
    Artifact,
    Manifest,
    affected_tables,
    manifest_json,
    needs_backup,
    new_backup_id,
    scope_fingerprint,
    select_expired,
)
from dualpath.backup.destinations import FileDestination, S3Destination, open_destination
from dualpath.changes import Change, Directive, Statement
from dualpath.cli.commands.backup import parse_tables
from dualpath.engines import Fingerprint, open_engine
from dualpath.engines.dump import ToolSettings, find_tool
from dualpath.engines.mysql.dump import MysqlDumper
from dualpath.engines.postgres.dump import PostgresDumper
from dualpath.engines.sqlite.dump import SqliteDumper
from dualpath.errors import InputError, UsageError

NOW = datetime(2026, 11, 5, 2, 0, tzinfo=UTC)


def manifest(backup_id: str, age_days: float) -> Manifest:
    created = (NOW - timedelta(days=age_days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Manifest(backup_id=backup_id, created_at=created, created_by="ops", engine="sqlite", flavor="sqlite",
                    server_version="3.45", tool="sqlite3", source="sqlite:///x.db", database="x.db",
                    scope="database", tables=["t"], row_counts={"t": 1}, fingerprint_digest="d", fingerprint={},
                    change_ids=["1"], artifacts=[Artifact(name="x.sqlite3", sha256="0" * 64, size=10)])


def change(*sql: str, irreversible: bool = False) -> Change:
    directives = (Directive("irreversible", {"reason": "legacy"}, "V1__x.sql", 1),) if irreversible else ()
    return Change(version="1", description="x", forward=tuple(Statement(s, "V1__x.sql", 1) for s in sql),
                  rollback=(), file="V1__x.sql", directives=directives)


def test_backup_ids_sort_by_time_and_name_the_database() -> None:
    first = new_backup_id("/var/db/shop.db", NOW)
    later = new_backup_id("shop", NOW + timedelta(seconds=1))
    assert re.fullmatch(r"20261105T020000Z-shop-[0-9a-f]{6}", first)
    assert first < later


def test_manifest_round_trips_through_json() -> None:
    original = manifest("a", 1)
    assert Manifest.model_validate_json(manifest_json(original)) == original
    assert original.size == 10


@pytest.mark.parametrize("keep_n,keep_days,expired", [
    (2, None, ["c", "d"]),
    (None, 2.5, ["d"]),
    (1, 2.5, ["d"]),  # kept when any rule keeps it
    (None, 0, ["b", "c", "d"]),  # the newest is never pruned
    (None, None, []),
])
def test_retention(keep_n: int | None, keep_days: float | None, expired: list[str]) -> None:
    backups = [manifest("a", 0), manifest("b", 1), manifest("c", 2), manifest("d", 3)]
    assert select_expired(backups, keep_n, keep_days, NOW) == expired


def test_retention_refuses_keep_zero() -> None:
    with pytest.raises(UsageError):
        select_expired([manifest("a", 0)], 0, None, NOW)


def test_scope_keeps_the_tables_and_what_hangs_off_them() -> None:
    fingerprint = Fingerprint({
        "table": {"orders": {}, "customers": {}},
        "column": {"orders.id": {"table": "orders"}, "customers.id": {"table": "customers"}},
        "sequence": {"orders_id_seq": {"table": "orders"}, "free_seq": {"table": None}},
        "view": {"v": {"definition": "select 1"}},
    })
    scoped = scope_fingerprint(fingerprint, ["public.orders"])
    assert scoped.objects == {"table": {"orders": {}}, "column": {"orders.id": {"table": "orders"}},
                              "sequence": {"orders_id_seq": {"table": "orders"}}}
    assert scope_fingerprint(fingerprint, None) is fingerprint


def test_destructive_changes_need_a_backup_of_what_they_touch() -> None:
    drop = change("DROP TABLE orders", "DELETE FROM customers WHERE id = 1")
    assert needs_backup(drop, "postgresql")
    assert affected_tables([drop], "postgresql") == ["orders", "customers"]
    harmless = change("CREATE INDEX i ON orders (n)")
    assert not needs_backup(harmless, "mysql")
    assert needs_backup(change("CREATE INDEX i ON orders (n)", irreversible=True), "mysql")
    assert affected_tables([change("CREATE INDEX i ON orders (n)", irreversible=True)], "mysql") is None
    assert affected_tables([change("DROP SCHEMA legacy CASCADE")], "postgresql") is None


def test_only_statements_with_a_word_that_could_destroy_data_are_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    import dualpath.risk.ops as ops

    parsed: list[str] = []
    real = ops.extract_ops
    monkeypatch.setattr(ops, "extract_ops", lambda sql, dialect: parsed.append(sql) or real(sql, dialect))
    assert not needs_backup(change("CREATE TABLE t (id int)", "INSERT INTO t VALUES (1)"), "postgresql")
    assert parsed == []  # nothing there can destroy data: no parse
    assert needs_backup(change("ALTER TABLE t ALTER COLUMN id TYPE bigint"), "postgresql")
    assert needs_backup(change("drop  table  ((( not sql"), "postgresql")  # unreadable, and may drop
    assert needs_backup(change("CREATE TABLE c AS SELECT * FROM t"), "postgresql")
    needs_backup(change("DO $$ BEGIN PERFORM 1; END $$"), "postgresql")
    assert parsed[-1].startswith("DO $$")  # code that may do anything is always read


def test_destinations_parse(tmp_path: Path) -> None:
    s3 = open_destination("s3://bucket/a/b/")
    assert isinstance(s3, S3Destination) and (s3.bucket, s3.prefix) == ("bucket", "a/b")
    assert s3.key("id/manifest.json") == "a/b/id/manifest.json"
    local = open_destination(f"file://{tmp_path}")
    assert isinstance(local, FileDestination) and local.root == tmp_path
    for bad in ("", "ftp://x/y", "s3:///nobucket"):
        with pytest.raises(UsageError):
            open_destination(bad)


def test_file_destination_writes_lists_and_deletes(tmp_path: Path) -> None:
    dest = FileDestination(tmp_path / "b")
    dest.check()
    dest.put_bytes("id1/manifest.json", b"{}")
    source = tmp_path / "a.dump"
    source.write_bytes(b"x" * 3_000_000)
    dest.put_file("id1/a.dump", source)
    assert dest.names() == ["id1/a.dump", "id1/manifest.json"]
    assert b"".join(dest.read_chunks("id1/a.dump")) == source.read_bytes()
    dest.delete(dest.names())
    assert dest.names() == [] and not (tmp_path / "b" / "id1").exists()


def test_each_engine_gives_its_own_dumper() -> None:
    tools = ToolSettings(pg_dump="/opt/pg/bin/pg_dump")
    dumpers = {url: open_engine(url).dumper(tools) for url in ("postgresql://h/db", "mysql://h/db", "sqlite:///x.db")}
    assert [type(d) for d in dumpers.values()] == [PostgresDumper, MysqlDumper, SqliteDumper]
    assert all(d.settings is tools for d in dumpers.values())  # type: ignore[attr-defined]


def test_find_tool_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(InputError, match="pg_dump not found on PATH") as missing:
        find_tool(["pg_dump"], None, "pg_dump", "postgresql-client")
    assert "postgresql-client" in str(missing.value)
    with pytest.raises(InputError, match="does not exist or is not executable"):
        find_tool(["pg_dump"], str(tmp_path / "nope"), "pg_dump", "postgresql-client")


def test_mysql_password_travels_in_the_environment_only() -> None:
    from dualpath.urls import parse_url

    url = parse_url("mysql://app:hunter2@db.internal:3307/shop")
    dumper = MysqlDumper(ToolSettings())
    assert "hunter2" not in " ".join(dumper.connection_args(url))
    assert dumper.env(url)["MYSQL_PWD"] == "hunter2"
    assert PostgresDumper(dumper.settings).env(parse_url("postgresql://u:pw@h/db"))["PGPASSWORD"] == "pw"


def test_tables_option() -> None:
    assert parse_tables(" orders, customers ,") == ["orders", "customers"]
    assert parse_tables("") is None and parse_tables(None) is None


def test_restored_contents_are_compared_table_by_table_with_the_manifest() -> None:
    from dualpath.backup import contents_problems

    recorded = manifest("a", 0).model_copy(update={"tables": ["orders", "customers"],
                                                   "row_counts": {"orders": 20, "customers": 3}})
    assert contents_problems(recorded, {"orders": 20, "customers": 3}) == []
    assert contents_problems(recorded, {"customers": 3, "widgets": 2}) == [
        "table orders: in the manifest (20 rows), not restored",
        "table widgets: restored (2 rows), not in the manifest"]
    assert contents_problems(recorded, {"orders": 15, "customers": 3}) == [
        "table orders: 20 rows in the manifest, 15 restored"]


def test_no_destructive_statement_of_the_corpus_escapes_the_word_filter() -> None:
    """The filter in front of the parse (backup/policy.py) may let harmless statements through, never a
    destructive one: checked on every statement of the measured corpus and a few written for it."""
    from dualpath.backup.policy import DESTRUCTIVE_OPS
    from dualpath.backup_words import MAY_DESTROY as _MAY_DESTROY
    from dualpath.risk.ops import SqlSyntaxError, extract_ops
    from dualpath.sql.split import split_statements
    from tests.corpus.cases import CASES

    written = [("postgresql", "ALTER TABLE t ALTER c TYPE text"), ("postgresql", "ALTER TABLE t DROP c"),
               ("postgresql", "ALTER TABLE t ALTER COLUMN c SET DATA TYPE int"),
               ("mysql", "ALTER TABLE t MODIFY c int"), ("mysql", "ALTER TABLE t CHANGE c d int"),
               ("mysql", "alter table t modify column c bigint"), ("sqlite", "ALTER TABLE t DROP COLUMN c"),
               ("postgresql", "CREATE TABLE t AS SELECT 1 AS identity"),
               ("postgresql", "create table t as\n  table identity"), ("mysql", "CREATE TABLE t AS SELECT 1"),
               ("mysql", "CREATE TABLE t SELECT id FROM s"),  # no AS: MySQL's CREATE TABLE ... SELECT
               ("mysql", "CREATE TABLE t (id int) IGNORE SELECT id FROM s")]
    dialects = {"mariadb": "mysql", "postgresql": "postgresql"}
    statements = [(dialects[c.engine], s.text) for c in CASES
                  for s in split_statements(c.sql, file="corpus", dialect=dialects[c.engine])] + written
    checked = 0
    for dialect, sql in statements:
        try:
            ops = extract_ops(sql, dialect)
        except SqlSyntaxError:
            continue
        if any(op.kind in DESTRUCTIVE_OPS for op in ops):
            checked += 1
            assert _MAY_DESTROY.search(sql), f"{dialect}: {sql!r} is destructive and escapes the filter"
    assert checked > 40  # the corpus holds that many destructive statements: the check looked at them
    assert not _MAY_DESTROY.search("ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT 0")  # not worth a parse
    assert not _MAY_DESTROY.search("CREATE TABLE t (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY)")
    assert _MAY_DESTROY.search("CREATE TABLE t (id int GENERATED ALWAYS AS (1) STORED)")  # may be parsed
