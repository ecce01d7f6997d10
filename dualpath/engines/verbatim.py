"""The one way a migration statement (or any SQL built as text) reaches a server: verbatim.

With parameters the drivers rewrite the text first: psycopg turns ``%s`` into ``$1`` and refuses
``%D``, pymysql formats it with ``%`` and raises ValueError. A migration has no parameters, so
its ``%``, ``%(x)s``, ``:name``, ``?`` and ``$1`` are SQL text and must reach the server as such.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, CursorResult

NO_PARAMETERS = {"no_parameters": True}


def run_verbatim(conn: Connection, sql: str) -> CursorResult[*tuple[Any, ...]]:
    """Run ``sql`` exactly as written: no parameter substitution by SQLAlchemy or the driver."""
    return conn.exec_driver_sql(sql, execution_options=NO_PARAMETERS)
