"""The validation snapshot of a tenant: one catalog query per kind of fact, whatever its table count."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from dualpath.engines import open_engine
from dualpath.errors import ConnectionFailed
from dualpath.validation.schema import snapshot_schema

pytestmark = pytest.mark.integration


@contextmanager
def counted_statements() -> Iterator[list[str]]:
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    sa.event.listen(sa.Engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        sa.event.remove(sa.Engine, "before_cursor_execute", count)


def make_tables(url: str, schema: str, count: int) -> None:
    with open_engine(url).connect() as conn, conn.begin():
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
        conn.execute(sa.text(f"CREATE TABLE {schema}.parent (id int PRIMARY KEY, code text UNIQUE NOT NULL)"))
        for i in range(count - 1):
            conn.execute(sa.text(f"CREATE TABLE {schema}.child{i} (id int PRIMARY KEY, "
                                 f"parent_id int REFERENCES {schema}.parent (id), note text)"))
            conn.execute(sa.text(f"CREATE UNIQUE INDEX ON {schema}.child{i} (note)"))


def test_reflection_costs_the_same_for_2_and_12_tables_and_reads_every_key(pg_url: str) -> None:
    counts = {}
    for schema, tables in (("small", 2), ("big", 12)):
        make_tables(pg_url, schema, tables)
        url = f"{pg_url}?options={quote('-csearch_path=' + schema)}"
        snapshot_schema(url)  # the engine's first connect, not counted
        with counted_statements() as seen:
            snapshot = snapshot_schema(url)
        counts[schema] = len(seen)
        assert len(snapshot.tables) == tables
        child = snapshot.tables["child0"]
        assert child.primary_key == ("id",) and child.not_null == frozenset({"id"})
        assert ("note",) in child.unique and [fk.parent for fk in child.foreign_keys] == ["parent"]
        assert snapshot.tables["parent"].unique == (("code",),) and "code" in snapshot.tables["parent"].not_null
    assert counts["small"] == counts["big"]


def test_a_schema_created_after_a_refused_connect_is_seen(pg_url: str) -> None:
    url = f"{pg_url}?options={quote('-csearch_path=late')}"
    with pytest.raises(ConnectionFailed):
        snapshot_schema(url)
    make_tables(pg_url, "late", 2)
    with open_engine(url).connect() as conn:
        assert conn.dialect.default_schema_name == "late"  # the engine's first connect was done again
    assert set(snapshot_schema(url).tables) == {"parent", "child0"}
