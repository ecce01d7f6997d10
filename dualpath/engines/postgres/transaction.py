"""PostgreSQL: one change's transaction in as few round trips as keep each statement's error its own.

psycopg sends BEGIN before a transaction's first statement and COMMIT at its end, each a round trip
of its own: four for a one-statement change with its history row, where dbmate sends the same four
and psql in autocommit one. Here BEGIN travels in the same message as the first statement, and the
last statement, the history and audit rows (their values quoted by psycopg, as its ``sql.Literal``
does) and COMMIT in one message: a one-statement change is one round trip. Every other statement is
sent on its own; the server stops a message at its first error, so a failure is still the failing
statement's (the runner names the one it sent last), and what the server runs is the same
transaction, all or nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from dualpath.engines.transaction import ChangeTransaction, Recordable
from dualpath.engines.verbatim import run_statement, run_verbatim

if TYPE_CHECKING:
    from dualpath.changes import Statement


class FewerTrips(ChangeTransaction):
    """Runs on a connection in autocommit mode: the transaction is opened and closed by the SQL it sends."""

    def __init__(self, conn: Connection, literal: Callable[[Any], str]) -> None:
        super().__init__(conn)
        self.literal = literal
        self.opened = self.closed = False

    def run(self, sql: str) -> None:
        run_verbatim(self.conn, sql if self.opened else f"BEGIN;\n{sql}")
        self.opened = True

    def run_statement(self, statement: Statement) -> None:
        if statement.gexec:  # its query's rows are read: BEGIN goes alone, not in the same message
            if not self.opened:
                self.run("SELECT 1")
            run_statement(self.conn, statement)
        else:
            self.run(statement.text)

    def finish(self, record: Recordable) -> None:
        head = "" if self.opened else "BEGIN;\n"
        run_verbatim(self.conn, f"{head}{record.as_sql(self.literal)};\nCOMMIT")
        self.opened = self.closed = True

    def finish_after(self, statement: Statement, record: Callable[[], Recordable]) -> None:
        """The last statement, the record and COMMIT in one message: a one-statement change in one round trip.
        The server stops at the first error in a message, so a failing statement leaves the record unwritten
        and the transaction to be rolled back; the record's duration adds what the server spent on the
        statement (from the message's arrival, ``statement_timestamp()``, to the record's insert)."""
        if statement.gexec:  # its query's rows are read before what follows is sent
            super().finish_after(statement, record)
            return
        head = "" if self.opened else "BEGIN;\n"
        written = record().as_sql(self.literal, server_elapsed=_SERVER_ELAPSED_MS)
        # the ';' on a line of its own: a statement may end in a -- comment
        run_verbatim(self.conn, f"{head}{statement.text}\n;\n{written};\nCOMMIT")
        self.opened = self.closed = True


# milliseconds since the message arrived: what the statement sent in the same message took
_SERVER_ELAPSED_MS = "(EXTRACT(EPOCH FROM clock_timestamp() - statement_timestamp()) * 1000)::integer"


@contextlib.contextmanager
def fewer_trips(conn: Connection) -> Iterator[ChangeTransaction]:
    """The change's transaction; on any error it is rolled back (as ``conn.begin()`` would) and the error
    raised. psycopg's autocommit is switched on the driver's connection for the block only (SQLAlchemy's
    isolation-level switch costs more than a round trip here), so it sends no BEGIN or COMMIT of its own."""
    from psycopg.adapt import Transformer
    from psycopg.pq import TransactionStatus

    if conn.in_transaction():
        conn.commit()
    raw: Any = conn.connection.dbapi_connection
    quoting, encoding = Transformer.from_context(raw), raw.info.encoding  # what sql.Literal does, set up once
    transaction = FewerTrips(conn, lambda value: quoting.as_literal(value).decode(encoding))
    raw.autocommit = True
    failed = False
    try:
        yield transaction
        if transaction.opened and not transaction.closed:
            run_verbatim(conn, "COMMIT")
    except BaseException:
        failed = True
        if not conn.invalidated and raw.info.transaction_status != TransactionStatus.IDLE:
            with contextlib.suppress(SQLAlchemyError):  # the server may be gone: the error says so already
                run_verbatim(conn, "ROLLBACK")
        raise
    finally:
        if conn.in_transaction():  # SQLAlchemy's own bookkeeping: the server is idle by now, nothing is sent
            conn.rollback() if failed or conn.invalidated else conn.commit()
        if not conn.invalidated:  # a lost connection is replaced by one in the engine's own mode
            raw.autocommit = False
