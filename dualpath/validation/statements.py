"""Light reading of data statements: what an UPDATE backfills, how many rows an INSERT or DELETE moves.

The risk ops say which table a statement touches; the data checks also need the SET expressions,
WHERE clauses and SELECTs, so those are read here with sqlglot in the statement's own dialect.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

# dualpath dialect names → sqlglot's names for the same grammars.
_READ = {"postgresql": "postgres", "mysql": "mysql", "sqlite": "sqlite"}
_FOREIGN_KEY = re.compile(
    r"FOREIGN\s+KEY\s*\(([^)]*)\)\s*REFERENCES\s+([\w.`\"]+)\s*\(([^)]*)\)", re.I)
_INLINE_REFERENCES = re.compile(
    r"ADD\s+(?:COLUMN\s+)?([\w`\"]+)\s.*?REFERENCES\s+([\w.`\"]+)\s*\(([^)]*)\)", re.I | re.S)
_UNIQUE_COLUMNS = re.compile(r"\b(?:UNIQUE|PRIMARY\s+KEY)\s*(?:KEY|INDEX)?\s*[\w`\"]*\s*\(([^)]*)\)", re.I)
_INDEX_COLUMNS = re.compile(r"\bON\s+[\w.`\"]+\s*(?:USING\s+\w+\s*)?\(([^)]*)\)", re.I)
_NULL_SAFE_NODES = (exp.Column, exp.Literal, exp.Paren, exp.Add, exp.Sub, exp.Mul, exp.Neg, exp.Cast,
                    exp.Identifier, exp.DataType, exp.Upper, exp.Lower, exp.Trim)
_VOLATILE = re.compile(r"\b(now|random|rand|uuid|gen_random_uuid|current_timestamp|sysdate|clock_timestamp)\b",
                       re.I)


@dataclass(frozen=True)
class Assignment:
    """``column = expression`` of one UPDATE."""

    column: str
    expression: str
    reads: frozenset[str]  # columns the expression reads
    null_free: bool  # never NULL when the columns it reads are NOT NULL
    volatile: bool


@dataclass(frozen=True)
class DataFacts:
    """What a DML statement does to rows, as far as a reader can tell without running it."""

    kind: str  # "update" | "insert" | "delete" | "other"
    table: str | None = None
    assignments: tuple[Assignment, ...] = ()
    where: str | None = None
    count_query: str | None = None  # rows it inserts or deletes, counted before it runs
    rows: int | None = None  # INSERT ... VALUES: the tuples it adds
    sources: tuple[str, ...] = ()  # tables an INSERT ... SELECT reads
    extra: dict[str, str] = field(default_factory=dict)


def bare(name: str) -> str:
    """Table or column name without quotes or schema, lower-case (how snapshots name them)."""
    return name.strip().strip('`"[]').rsplit(".", 1)[-1].strip('`"[]').lower()


def read_data_statement(text: str, dialect: str) -> DataFacts:
    """Facts of one UPDATE/INSERT/DELETE; ``kind="other"`` when it is none or cannot be read."""
    read = _READ.get(dialect, dialect)
    try:
        tree = sqlglot.parse_one(text, read=read)
    except SqlglotError:
        return DataFacts("other")
    if isinstance(tree, exp.Update):
        return read_update(tree, read)
    if isinstance(tree, exp.Insert):
        return read_insert(tree, read)
    if isinstance(tree, exp.Delete):
        table = bare(tree.this.sql(dialect=read))
        where = tree.args.get("where")
        cond = where.this.sql(dialect=read) if where is not None else "1 = 1"
        return DataFacts("delete", table, count_query=f"SELECT COUNT(*) FROM {tree.this.sql(dialect=read)} "
                                                      f"WHERE {cond}")
    return DataFacts("other")


def read_update(tree: exp.Update, read: str) -> DataFacts:
    assignments = []
    for eq in tree.expressions:
        if not isinstance(eq, exp.EQ):
            continue
        value = eq.expression
        reads = frozenset(bare(c.name) for c in value.find_all(exp.Column))
        assignments.append(Assignment(bare(eq.this.sql(dialect=read)), value.sql(dialect=read), reads,
                                      is_null_free(value), bool(_VOLATILE.search(value.sql(dialect=read)))))
    where = tree.args.get("where")
    return DataFacts("update", bare(tree.this.sql(dialect=read)), tuple(assignments),
                     where.this.sql(dialect=read) if where is not None else None)


def read_insert(tree: exp.Insert, read: str) -> DataFacts:
    target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
    table = bare(target.sql(dialect=read))
    source = tree.expression
    if isinstance(source, exp.Values):
        return DataFacts("insert", table, rows=len(source.expressions))
    if isinstance(source, exp.Query):
        tables = tuple(sorted({bare(t.sql(dialect=read)) for t in source.find_all(exp.Table)}))
        return DataFacts("insert", table, sources=tables,
                         count_query=f"SELECT COUNT(*) FROM ({source.sql(dialect=read)}) dp_moved")
    return DataFacts("insert", table)


def is_null_free(value: exp.Expression) -> bool:
    """True when the expression is built only from columns, non-NULL literals and NULL-preserving operators."""
    for node in value.walk():
        if isinstance(node, exp.Null) or not isinstance(node, _NULL_SAFE_NODES):
            return False
    return True


def foreign_keys_added(text: str) -> list[tuple[tuple[str, ...], str, tuple[str, ...]]]:
    """``(columns, parent table, parent columns)`` of FOREIGN KEY / inline REFERENCES clauses a statement adds."""
    found = [(split_names(cols), bare(parent), split_names(pcols))
             for cols, parent, pcols in _FOREIGN_KEY.findall(text)]
    if not found:
        found = [((bare(col),), bare(parent), split_names(pcols))
                 for col, parent, pcols in _INLINE_REFERENCES.findall(text)]
    return found


def index_columns(text: str) -> tuple[str, ...]:
    """Columns of a CREATE INDEX statement (expressions are dropped: they name no column)."""
    found = _INDEX_COLUMNS.search(text)
    return split_names(found.group(1)) if found else ()


def key_columns(text: str) -> tuple[str, ...]:
    """Columns of an ADD UNIQUE / ADD PRIMARY KEY clause."""
    found = _UNIQUE_COLUMNS.search(text)
    return split_names(found.group(1)) if found else ()


def split_names(text: str) -> tuple[str, ...]:
    names = (part.strip().split()[0] for part in text.split(",") if part.strip())
    return tuple(bare(n) for n in names if re.fullmatch(r"[\w`\"]+", n))
