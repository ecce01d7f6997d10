"""The schema as it stands before a change: tables, columns, keys. Read with SQLAlchemy's inspector."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from dualpath.engines import open_engine, table_names
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
        names = [n for n in table_names(conn) if not is_foreign_table(n)]
        tables = read_tables(inspector, names) if names else {}
    return SchemaSnapshot(engine.name, tables)


def read_tables(inspector: sa.Inspector, names: list[str]) -> dict[str, TableShape]:
    """Every table's shape from one catalog query per kind of fact (columns, keys, indexes), not five
    per table: on PostgreSQL a tenant of 30 tables took 150 round trips before each apply."""
    def by_table(multi: dict[tuple[str | None, str], Any]) -> dict[str, Any]:
        return {table: value for (_, table), value in multi.items()}

    # the default schema named: without it PostgreSQL's reflection asks every table of each name whether it
    # is visible, and a schema-per-tenant database has one per tenant
    schema = inspector.default_schema_name
    columns = by_table(inspector.get_multi_columns(schema, filter_names=names))
    pks = by_table(inspector.get_multi_pk_constraint(schema, filter_names=names))
    uniques = by_table(inspector.get_multi_unique_constraints(schema, filter_names=names))
    indexes = by_table(inspector.get_multi_indexes(schema, filter_names=names))
    fks = by_table(inspector.get_multi_foreign_keys(schema, filter_names=names))
    return {n.lower(): table_shape(n, columns.get(n, []), pks.get(n) or {}, uniques.get(n, []), indexes.get(n, []),
                                   fks.get(n, [])) for n in names}


def table_shape(name: str, columns: list[Any], pk_constraint: Any, uniques: list[Any], indexes: list[Any],
                foreign_keys: list[Any]) -> TableShape:
    pk = tuple(c.lower() for c in pk_constraint.get("constrained_columns") or ())
    unique = {tuple(c.lower() for c in u["column_names"] if c) for u in uniques}
    unique |= {tuple(str(c).lower() for c in i["column_names"] if c) for i in indexes if i.get("unique")}
    fks = tuple(ForeignKey(name.lower(), tuple(c.lower() for c in fk["constrained_columns"]),
                           fk["referred_table"].lower(), tuple(c.lower() for c in fk["referred_columns"]),
                           fk.get("name")) for fk in foreign_keys)
    not_null = frozenset(c["name"].lower() for c in columns if not c.get("nullable", True)) | frozenset(pk)
    return TableShape(name.lower(), tuple(c["name"].lower() for c in columns), not_null, pk,
                      tuple(sorted(u for u in unique if u)), fks)
