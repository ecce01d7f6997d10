"""Built-in invariants of a change set: what must still hold on each tenant after it ran.

``derive_invariants`` is pure: Changes + the schema before them → Invariants. Running them is
``expectations/`` (Great Expectations); nothing here imports GX, so ``dualpath lint`` stays fast.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from dualpath.changes import Change, Statement
from dualpath.risk.ops import SqlSyntaxError, extract_ops
from dualpath.validation.schema import ForeignKey, SchemaSnapshot, snapshot_schema
from dualpath.validation.statements import (
    Assignment,
    bare,
    foreign_keys_added,
    index_columns,
    key_columns,
    read_data_statement,
)

__all__ = ["Invariant", "SchemaSnapshot", "derive_invariants", "integrity_invariants", "snapshot_schema"]

InvariantKind = Literal["row_count_unchanged", "row_count_reconciles", "not_null", "unique", "foreign_key",
                        "checksum_unchanged", "backfill_matches"]
_STRUCTURAL_LOSS = {"drop_table", "truncate", "rename_table"}  # the old row count no longer applies


@dataclass(frozen=True)
class Invariant:
    """One property of the data a change must keep (or establish), checked per tenant."""

    kind: InvariantKind
    table: str
    columns: tuple[str, ...] = ()
    why: str = ""  # the statement that makes it needed (file:line), or why it holds
    tolerance: float = 0.0  # relative, for row counts of live tables
    parent: str | None = None  # foreign_key: the referenced table ...
    parent_columns: tuple[str, ...] = ()  # ... and its columns
    expression: str | None = None  # backfill_matches: what the column was set to
    where: str | None = None  # backfill_matches: which rows the backfill covered
    key: tuple[str, ...] = ()  # primary key: orders checksums and samples
    deltas: tuple[tuple[int, str], ...] = ()  # row_count_reconciles: (sign, COUNT query run at baseline)

    @property
    def ref(self) -> str:
        """Stable id, used to find this invariant's baseline values and GX results again."""
        target = f"{self.parent}({','.join(self.parent_columns)})" if self.parent else ""
        return f"{self.kind}:{self.table}:{','.join(self.columns)}{'->' + target if target else ''}"

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "table": self.table, "columns": list(self.columns), "why": self.why,
                "tolerance": self.tolerance, "parent": self.parent, "parent_columns": list(self.parent_columns),
                "expression": self.expression, "where": self.where, "key": list(self.key),
                "deltas": [list(d) for d in self.deltas]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Invariant:
        return cls(kind=data["kind"], table=data["table"], columns=tuple(data.get("columns", ())),
                   why=data.get("why", ""), tolerance=float(data.get("tolerance", 0.0)), parent=data.get("parent"),
                   parent_columns=tuple(data.get("parent_columns", ())), expression=data.get("expression"),
                   where=data.get("where"), key=tuple(data.get("key", ())),
                   deltas=tuple((int(s), str(q)) for s, q in data.get("deltas", ())))


@dataclass
class Footprint:
    """Where a change set lands: tables and columns it alters, writes, moves rows between."""

    altered: set[str] = field(default_factory=set)  # tables with any schema or data op
    lost: set[str] = field(default_factory=set)  # dropped, truncated, renamed away
    created: set[str] = field(default_factory=set)
    columns: dict[str, dict[str, str]] = field(default_factory=dict)  # table → column → where
    not_null: dict[tuple[str, str], str] = field(default_factory=dict)
    unique: dict[tuple[str, tuple[str, ...]], str] = field(default_factory=dict)
    foreign_keys: list[tuple[ForeignKey, str]] = field(default_factory=list)
    reshaped: set[tuple[str, str]] = field(default_factory=set)  # dropped, retyped, renamed columns
    deltas: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    uncounted: set[str] = field(default_factory=set)  # rows moved by statements we cannot count
    backfills: dict[tuple[str, str], tuple[Assignment, str | None, str]] = field(default_factory=dict)
    assigned: dict[str, set[str]] = field(default_factory=dict)  # table → columns any UPDATE sets

    def touch(self, table: str, column: str, where: str) -> None:
        self.columns.setdefault(table, {}).setdefault(column, where)


def derive_invariants(changes: Iterable[Change], baseline_snapshot: SchemaSnapshot, *,
                      tolerances: Mapping[str, float] | None = None) -> list[Invariant]:
    """The built-in invariants of running ``changes`` on a database shaped like ``baseline_snapshot``."""
    snapshot = baseline_snapshot
    footprint = Footprint()
    for change in changes:
        for statement in change.forward:
            read_statement(footprint, statement, snapshot.dialect)
    tol = dict(tolerances or {})
    found = (row_count_invariants(footprint, snapshot, tol) + not_null_invariants(footprint, snapshot)
             + unique_invariants(footprint, snapshot) + foreign_key_invariants(footprint, snapshot)
             + checksum_invariants(footprint, snapshot) + backfill_invariants(footprint, snapshot))
    unique_refs: dict[str, Invariant] = {}
    for inv in found:
        unique_refs.setdefault(inv.ref, inv)
    return list(unique_refs.values())


def integrity_invariants(snapshot: SchemaSnapshot) -> list[Invariant]:
    """A sweep without a change: every unique key and foreign key of every table holds.

    What ``dualpath validate`` runs by hand; SQLite (foreign keys off by default) and bulk loads with
    checks disabled are where orphans and duplicates hide.
    """
    found = []
    for shape in snapshot.tables.values():
        keys = sorted(set(shape.unique) | ({shape.primary_key} if shape.primary_key else set()))
        found += [Invariant("unique", shape.name, key, why="unique key") for key in keys]
        found += [Invariant("foreign_key", fk.table, fk.columns, why=f"foreign key {fk.name or ''}".strip(),
                            parent=fk.parent, parent_columns=fk.parent_columns) for fk in shape.foreign_keys]
    return found


def read_statement(footprint: Footprint, statement: Statement, dialect: str) -> None:
    """Add one forward statement's ops and data facts to the footprint."""
    try:
        ops = extract_ops(statement.text, dialect)
    except SqlSyntaxError:
        return
    where = statement.where
    for op in ops:
        table = bare(op.table) if op.table else None
        if table is None:
            continue
        footprint.altered.add(table)
        column = bare(str(op.get("column") or op.name or "")) or None
        if op.kind in _STRUCTURAL_LOSS:
            footprint.lost.add(table)
        elif op.kind in ("create_table", "create_table_as"):
            footprint.created.add(table)
        elif op.kind == "add_column" and column:
            footprint.touch(table, column, where)
            if op.get("not_null") or op.get("primary"):
                footprint.not_null[(table, column)] = where
            if op.get("unique") or op.get("primary"):
                footprint.unique[(table, (column,))] = where
        elif op.kind in ("alter_column_type", "drop_column", "rename_column") and column:
            footprint.reshaped.add((table, column))
            if op.kind != "drop_column":
                footprint.touch(table, bare(str(op.get("new_name") or column)), where)
        elif op.kind == "set_not_null" and column:
            footprint.touch(table, column, where)
            footprint.not_null[(table, column)] = where
        elif op.kind == "create_index" and op.get("unique"):
            read_unique(footprint, table, index_columns(statement.text), where)
        elif op.kind == "add_constraint":
            read_constraint(footprint, table, op.variant, statement.text, where)
        elif op.kind in ("update", "insert", "insert_select", "delete"):
            read_dml(footprint, statement, dialect)
    for cols, parent, pcols in foreign_keys_added(statement.text) if ops and ops[0].kind == "add_column" else ():
        table = bare(str(ops[0].table))
        footprint.foreign_keys.append((ForeignKey(table, cols, parent, pcols), where))


def read_unique(footprint: Footprint, table: str, columns: tuple[str, ...], where: str) -> None:
    if columns:
        footprint.unique[(table, columns)] = where
        for column in columns:
            footprint.touch(table, column, where)


def read_constraint(footprint: Footprint, table: str, variant: str, text: str, where: str) -> None:
    if variant.startswith("foreign"):
        for cols, parent, pcols in foreign_keys_added(text):
            footprint.foreign_keys.append((ForeignKey(table, cols, parent, pcols), where))
            for column in cols:
                footprint.touch(table, column, where)
    elif variant in ("unique", "primary"):
        read_unique(footprint, table, key_columns(text), where)


def read_dml(footprint: Footprint, statement: Statement, dialect: str) -> None:
    facts = read_data_statement(statement.text, dialect)
    table = facts.table
    if table is None:
        return
    if facts.kind == "update":
        for assignment in facts.assignments:
            footprint.touch(table, assignment.column, statement.where)
            footprint.assigned.setdefault(table, set()).add(assignment.column)
            # A later UPDATE of the same column decides its final value.
            footprint.backfills[(table, assignment.column)] = (assignment, facts.where, statement.where)
    elif facts.kind in ("insert", "delete"):
        sign = 1 if facts.kind == "insert" else -1
        query = facts.count_query or (f"SELECT {facts.rows}" if facts.rows is not None else None)
        if query is None:
            footprint.uncounted.add(table)
        else:
            footprint.deltas.setdefault(table, []).append((sign, query))
    else:
        footprint.uncounted.add(table)


def row_count_invariants(fp: Footprint, snapshot: SchemaSnapshot, tolerances: dict[str, float]) -> list[Invariant]:
    found = []
    for table in sorted(set(snapshot.tables) | fp.created):
        if table in fp.lost or table in fp.uncounted or (table in fp.created and table not in fp.deltas):
            continue
        tolerance = tolerances.get(table, tolerances.get("*", 0.0))
        if table in fp.deltas:
            found.append(Invariant("row_count_reconciles", table, why="rows moved by the change reconcile",
                                   tolerance=tolerance, deltas=tuple(fp.deltas[table])))
        else:
            why = "written by the change, no rows added or removed" if table in fp.altered \
                else "not touched by the change"
            found.append(Invariant("row_count_unchanged", table, why=why, tolerance=tolerance))
    return found


def not_null_invariants(fp: Footprint, snapshot: SchemaSnapshot) -> list[Invariant]:
    found = []
    for table, columns in sorted(fp.columns.items()):
        shape = snapshot.tables.get(table)
        for column, where in sorted(columns.items()):
            declared = fp.not_null.get((table, column))
            if declared or (shape and column in shape.not_null and (table, column) not in fp.reshaped):
                found.append(Invariant("not_null", table, (column,), why=declared or f"NOT NULL, touched at {where}"))
    for (table, column), (assignment, cond, where) in sorted(fp.backfills.items(), key=lambda kv: kv[0]):
        shape = snapshot.tables.get(table)
        if cond is None and shape and assignment.null_free and assignment.reads <= shape.not_null:
            found.append(Invariant("not_null", table, (column,),
                                   why=f"backfilled at {where} from NOT NULL values only"))
    return found


def unique_invariants(fp: Footprint, snapshot: SchemaSnapshot) -> list[Invariant]:
    found = [Invariant("unique", t, cols, why=f"unique since {where}") for (t, cols), where in fp.unique.items()]
    for table, columns in sorted(fp.columns.items()):
        shape = snapshot.tables.get(table)
        if shape is None:
            continue
        keys = set(shape.unique) | ({shape.primary_key} if shape.primary_key else set())
        for key in sorted(keys):
            if set(key) & set(columns) and not {(table, c) for c in key} & fp.reshaped:
                found.append(Invariant("unique", table, key, why="unique key on a touched column"))
    return found


def foreign_key_invariants(fp: Footprint, snapshot: SchemaSnapshot) -> list[Invariant]:
    existing = [(fk, "foreign key of a table the change writes or alters") for fk in snapshot.foreign_keys()
                if (fk.table in fp.altered or fk.parent in fp.altered)
                and fk.table not in fp.lost and fk.parent not in fp.lost]
    return [Invariant("foreign_key", fk.table, fk.columns, why=why, parent=fk.parent, parent_columns=fk.parent_columns)
            for fk, why in existing + fp.foreign_keys if fk.parent_columns]


def checksum_invariants(fp: Footprint, snapshot: SchemaSnapshot) -> list[Invariant]:
    found = []
    for table, assigned in sorted(fp.assigned.items()):
        shape = snapshot.tables.get(table)
        if shape is None or not shape.primary_key or table in fp.lost:
            continue
        for column in shape.columns:
            if column not in assigned and (table, column) not in fp.reshaped:
                found.append(Invariant("checksum_unchanged", table, (column,), key=shape.primary_key,
                                       why="a backfill of this table must not alter it"))
    return found


def backfill_invariants(fp: Footprint, snapshot: SchemaSnapshot) -> list[Invariant]:
    found = []
    for (table, column), (assignment, cond, where) in sorted(fp.backfills.items(), key=lambda kv: kv[0]):
        shape = snapshot.tables.get(table)
        # Values that depend on themselves, on other assigned columns or on the clock cannot be recomputed after.
        if assignment.volatile or assignment.reads & fp.assigned.get(table, set()):
            continue
        if any(c in fp.reshaped for c in ((table, r) for r in assignment.reads)):
            continue
        if f"{table}." in assignment.expression.lower():  # correlated to the updated table: not re-runnable alone
            continue
        found.append(Invariant("backfill_matches", table, (column,), why=f"backfilled at {where}",
                               expression=assignment.expression, where=cond,
                               key=shape.primary_key if shape else ()))
    return found
