"""The schema as it stands before a change: tables, columns, keys. Read with SQLAlchemy's inspector."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from dualpath.engines import open_engine
from dualpath.engines.fingerprint import is_foreign_table


@dataclass(frozen=True)
class ForeignKey:
    table: str
    columns: tuple[str, ...]
    parent: str
    parent_columns: tuple[str, ...]
    name: str | None = None


@dataclass(frozen=True)
class TableShape:
    name: str
    columns: tuple[str, ...]
    not_null: frozenset[str] = frozenset()
    primary_key: tuple[str, ...] = ()
    unique: tuple[tuple[str, ...], ...] = ()  # unique constraints and unique indexes
    foreign_keys: tuple[ForeignKey, ...] = ()


@dataclass(frozen=True)
class SchemaSnapshot:
    """What ``derive_invariants`` needs to know about the target before the change."""

    dialect: str
    tables: dict[str, TableShape] = field(default_factory=dict)

    def foreign_keys(self) -> list[ForeignKey]:
        return [fk for shape in self.tables.values() for fk in shape.foreign_keys]


def snapshot_schema(url: str) -> SchemaSnapshot:
    """Tables of the default schema with their columns and keys; dualpath's own tables left out."""
    engine = open_engine(url)
    with engine.connect() as conn:
        inspector = sa.inspect(conn)
        names = [n for n in inspector.get_table_names() if not is_foreign_table(n)]
        tables = {n.lower(): read_table(inspector, n) for n in names}
    return SchemaSnapshot(engine.name, tables)


def read_table(inspector: sa.Inspector, name: str) -> TableShape:
    columns = inspector.get_columns(name)
    pk = tuple(c.lower() for c in inspector.get_pk_constraint(name).get("constrained_columns") or ())
    unique = {tuple(c.lower() for c in u["column_names"] if c) for u in inspector.get_unique_constraints(name)}
    unique |= {tuple(str(c).lower() for c in i["column_names"] if c) for i in inspector.get_indexes(name)
               if i.get("unique")}
    fks = tuple(ForeignKey(name.lower(), tuple(c.lower() for c in fk["constrained_columns"]),
                           fk["referred_table"].lower(), tuple(c.lower() for c in fk["referred_columns"]),
                           fk.get("name")) for fk in inspector.get_foreign_keys(name))
    not_null = frozenset(c["name"].lower() for c in columns if not c.get("nullable", True)) | frozenset(pk)
    return TableShape(name.lower(), tuple(c["name"].lower() for c in columns), not_null, pk,
                      tuple(sorted(u for u in unique if u)), fks)
