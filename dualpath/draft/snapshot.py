"""A schema as a rollback draft needs it: reflected tables (SQLAlchemy), views, named types, fingerprint.

The reflected ``Table`` objects are what re-creates a dropped table or column; the view statements
what re-creates a view; the engine's fingerprint lists what reflection does not cover (routines,
triggers), so a draft can at least drop what the change created and name what it cannot write.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from dualpath.engines.base import Engine, Fingerprint
from dualpath.engines.ddl import Ddl
from dualpath.engines.fingerprint import is_foreign_table


@dataclass
class Snapshot:
    tables: dict[str, sa.Table]
    views: dict[str, str]  # name → the CREATE VIEW statement that makes it again
    types: dict[str, list[str]]  # enum name → labels
    fingerprint: Fingerprint
    metadata: sa.MetaData = field(default_factory=sa.MetaData)
    routine_order: list[str] = field(default_factory=list)  # oldest first, where the dialect knows
    routines: dict[str, str] = field(default_factory=dict)  # signature → what makes it again, where known


def take_snapshot(engine: Engine, conn: Connection, ddl: Ddl) -> Snapshot:
    """The schema of ``conn``'s database now, without dualpath's or other tools' history tables."""
    meta = sa.MetaData()
    with warnings.catch_warnings():  # "Did not recognize type 'ltree'": named below, from the server
        warnings.simplefilter("ignore", sa.exc.SAWarning)
        meta.reflect(bind=conn, views=False, only=lambda name, _: not is_foreign_table(name))
        fingerprint = engine.fingerprint(conn)
        for schema in other_schemas(fingerprint):  # a change may touch more than the default schema (peerdb)
            meta.reflect(bind=conn, schema=schema, views=False)
    views = {name: ddl.create_view(conn, name) for name in ddl.view_names(conn) if not is_foreign_table(name)}
    _name_unknown_types(meta, fingerprint)
    snap = Snapshot(tables=dict(meta.tables), views=views, types=ddl.types(conn),
                    fingerprint=fingerprint, metadata=meta, routine_order=ddl.routine_order(conn),
                    routines=ddl.routine_definitions(conn))
    conn.rollback()  # reflection autobegan a transaction; the runner opens its own
    return snap


def other_schemas(fingerprint: Fingerprint) -> list[str]:
    """The schemas besides the default one that hold tables: the fingerprint names their tables ``s.t``."""
    return sorted({name.split(".", 1)[0] for name in fingerprint.objects.get("table", {}) if "." in name})


class ServerType(sa.types.UserDefinedType[Any]):
    """A column type SQLAlchemy does not know (an extension's ``ltree``, ``citext``...), written as the
    server names it."""

    cache_ok = True

    def __init__(self, name: str) -> None:
        self.name = name

    def get_col_spec(self, **kw: Any) -> str:
        return self.name


def _name_unknown_types(meta: sa.MetaData, fingerprint: Fingerprint) -> None:
    columns = fingerprint.objects.get("column", {})
    for table in meta.tables.values():
        for column in table.columns:
            if isinstance(column.type, sa.types.NullType):
                found = columns.get(f"{table.key}.{column.name}", {}).get("type")
                if found:
                    column.type = ServerType(str(found))
