"""Sampled rows for verify: copied into the shadow with PII masked, summed per table across a round trip."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from dualpath.engines.base import Engine
from dualpath.engines.fingerprint import is_foreign_table
from dualpath.engines.verbatim import run_verbatim
from dualpath.errors import DualpathError
from dualpath.risk.context import same_name


def copy_sample(source: Engine, shadow: Engine, rows: int, pii_columns: Sequence[str]) -> None:
    """Up to ``rows`` rows of every table into the shadow, PII columns masked, foreign keys unchecked."""
    with source.connect() as src, shadow.connect() as dst:
        for statement in shadow.load_statements():
            try:
                run_verbatim(dst, statement)
            except DBAPIError as exc:
                raise DualpathError(f"cannot load sampled rows into the shadow ({statement}): "
                                    f"{str(exc.orig).strip().splitlines()[0]}",
                                    hint="use a role that may switch off foreign-key checks, "
                                         "or run verify without --sample-rows") from None
        meta = sa.MetaData()
        for name in list(source.iter_tables(src)):
            if is_foreign_table(name):
                continue
            table = sa.Table(name, meta, autoload_with=src)
            columns = [c for c in table.columns if c.computed is None]
            picked = src.execute(sa.select(*columns).limit(rows)).mappings().all()
            if picked:
                values = [_masked(name, dict(r), pii_columns) for r in picked]
                dst.execute(sa.Table(name, sa.MetaData(), *[c._copy() for c in columns]).insert(), values)
        dst.commit()
        src.rollback()


def _masked(table: str, row: dict[str, Any], pii_columns: Sequence[str]) -> dict[str, Any]:
    for column, value in row.items():
        if value is not None and any(_is_pii(table, column, p) for p in pii_columns):
            row[column] = mask(value)
    return row


def _is_pii(table: str, column: str, listed: str) -> bool:
    owner, _, name = listed.rpartition(".")
    return name.lower() == column.lower() and (not owner or same_name(owner, table))


def mask(value: Any) -> Any:
    """A stable stand-in: equal inputs stay equal (unique keys hold), the original is not recoverable."""
    digest = hashlib.sha256(str(value).encode()).hexdigest()
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(digest[:7], 16)
    if isinstance(value, str):
        return ("pii-" + digest)[: max(len(value), 8)]
    return value if not isinstance(value, bytes) else bytes.fromhex(digest[: 2 * min(len(value), 32)])


def data_sums(engine: Engine, conn: Connection) -> dict[str, tuple[int, str]]:
    """Per table: row count and a checksum of the rows' content, independent of row order."""
    sums = {}
    for name in engine.iter_tables(conn):
        if is_foreign_table(name):
            continue
        rows = run_verbatim(conn, f"SELECT * FROM {engine.quote_ident(name)}").all()
        digest = hashlib.sha256()
        for line in sorted(repr(tuple(r)) for r in rows):
            digest.update(line.encode())
        sums[name] = (len(rows), digest.hexdigest()[:12])
    return sums
