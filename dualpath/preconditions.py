"""Liquibase formatted SQL preconditions, judged before a changeset runs, as Liquibase 4.28 judges them.

``--preconditions onFail:X onError:Y`` with ``--precondition-sql-check expectedResult:N SELECT ...``,
``--precondition-table-exists table:t [schema:s]`` or ``--precondition-view-exists view:v [schema:s]``
lines (sources/liquibase.py reads them; all must hold). A check that does not hold is a failure, one that
raises is an error; each is handled as its setting says (HALT when none is given):

- HALT: the run stops there, naming the check's file:line;
- CONTINUE: the changeset is skipped, not recorded, and judged again on the next run;
- MARK_RAN: the changeset is recorded as applied without running (its rollback still runs on rollback,
  as Liquibase's does);
- WARN: a warning, and the changeset runs.

See https://docs.liquibase.com/concepts/changelogs/preconditions.html
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from dualpath.changes import Change
from dualpath.engines.base import Engine
from dualpath.engines.verbatim import run_verbatim
from dualpath.errors import RunFailed

RUN, SKIP, MARK_RAN = "run", "skip", "mark_ran"


def judge(engine: Engine, conn: Connection, change: Change, echo: Callable[[str], None]) -> str:
    """RUN, SKIP or MARK_RAN for ``change``; raises RunFailed where its setting is HALT."""
    found: dict[str, Any] | None = change.extra.get("preconditions")
    if not found or not found.get("checks"):
        return RUN
    failed, errored = _evaluate(engine, conn, found)
    if not failed and not errored:
        return RUN
    setting = found.get("on_error", "HALT") if errored else found.get("on_fail", "HALT")
    line, why = (errored or failed)[0]
    where = f"{found.get('file', change.file)}:{line}"
    what = "could not be checked" if errored else "does not hold"
    name = "onError" if errored else "onFail"
    if setting == "HALT":
        raise RunFailed(f"version {change.version}: precondition {what}: {why}", where=where,
                        hint=f"make the database meet it, or set {name}:CONTINUE, MARK_RAN or WARN on "
                             "its --preconditions line (as Liquibase reads it)")
    if setting == "WARN":
        echo(f"warning: {where}: version {change.version}: precondition {what} ({why}); running it anyway "
             f"({name}:WARN)")
        return RUN
    if setting == "MARK_RAN":
        echo(f"{where}: version {change.version}: precondition {what} ({why}); marked as applied without "
             f"running ({name}:MARK_RAN)")
        return MARK_RAN
    echo(f"{where}: version {change.version}: precondition {what} ({why}); skipped, judged again next run "
         f"({name}:CONTINUE)")
    return SKIP


def _evaluate(engine: Engine, conn: Connection, found: dict[str, Any]) -> tuple[list[tuple[int, str]],
                                                                              list[tuple[int, str]]]:
    """(failed, errored): each as (line, why); Liquibase stops at the first check that fails or errs."""
    for check in found["checks"]:
        try:
            why = _check(engine, conn, check)
        except DBAPIError as exc:
            conn.rollback()
            return [], [(check["line"], str(exc.orig).strip().splitlines()[0])]
        finally:
            if conn.in_transaction():
                conn.rollback()  # a check reads; the change opens its own transaction
        if why is not None:
            return [(check["line"], why)], []
    return [], []


def _check(engine: Engine, conn: Connection, check: dict[str, Any]) -> str | None:
    """None when the check holds, else what was found."""
    if check["type"] == "sql-check":
        row = run_verbatim(conn, check["sql"]).first()
        if row is None:
            return "no rows returned from SQL Precondition"
        got = "null" if row[0] is None else str(row[0])
        return None if got.strip() == str(check["expected"]).strip() else \
            f"expected '{check['expected']}' got '{got}'"
    kind = "table" if check["type"] == "table-exists" else "view"
    names = _names(conn, kind, check.get("schema") or engine.default_schema)
    name = str(check["name"])
    if name in names or name.lower() in names:
        return None
    return f"{kind} {name} does not exist"


def _names(conn: Connection, kind: str, schema: str) -> set[str]:
    inspector = sa.inspect(conn)
    return set(inspector.get_table_names(schema) if kind == "table" else inspector.get_view_names(schema))
