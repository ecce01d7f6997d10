"""The one way a migration statement (or any SQL built as text) reaches a server: verbatim.

With parameters the drivers rewrite the text first: psycopg turns ``%s`` into ``$1`` and refuses
``%D``, pymysql formats it with ``%`` and raises ValueError. A migration has no parameters, so
its ``%``, ``%(x)s``, ``:name``, ``?`` and ``$1`` are SQL text and must reach the server as such.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, CursorResult

if TYPE_CHECKING:
    from dualpath.changes import Statement

NO_PARAMETERS = {"no_parameters": True}


def run_verbatim(conn: Connection, sql: str) -> CursorResult[*tuple[Any, ...]]:
    """Run ``sql`` exactly as written: no parameter substitution by SQLAlchemy or the driver."""
    return conn.exec_driver_sql(sql, execution_options=NO_PARAMETERS)


def run_statement(conn: Connection, statement: Statement) -> None:
    """A migration statement, verbatim. One ended by psql's ``\\gexec`` is run as psql runs it: the
    query first, then every value of its result, row by row and column by column, as a statement of
    its own, verbatim (NULLs skipped), in the same session and transaction.
    See https://www.postgresql.org/docs/current/app-psql.html (\\gexec)."""
    result = run_verbatim(conn, statement.text)
    if not statement.gexec:
        return
    rows = result.all() if result.returns_rows else []
    for row in rows:
        for value in row:
            if value is not None:
                run_verbatim(conn, str(value))
