"""A change's transaction as the runner drives it: statements, then the change's own history rows, committed
together (engines/postgres/transaction.py sends them in fewer round trips)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Connection

from dualpath.engines.verbatim import run_statement, run_verbatim

if TYPE_CHECKING:
    from dualpath.changes import Statement



class Recordable(Protocol):
    """What a change writes with its statements (history.ChangeRecord)."""

    def write(self, conn: Connection) -> None: ...

    def as_sql(self, literal: Callable[[Any], str], server_elapsed: str = "") -> str: ...


class ChangeTransaction:
    """Where one change's statements run and its record is written, all committed together or not at all."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def run(self, sql: str) -> None:
        run_verbatim(self.conn, sql)

    def run_statement(self, statement: Statement) -> None:
        """A migration statement; one ended by psql's \\gexec runs what its query returns too."""
        if statement.gexec:
            run_statement(self.conn, statement)
        else:
            self.run(statement.text)

    def finish(self, record: Recordable) -> None:
        record.write(self.conn)

    def finish_after(self, statement: Statement, record: Callable[[], Recordable]) -> None:
        """The change's last statement, then its record (``record()`` is built once the statement ran, so that
        its duration counts it); an engine may send the two together (engines/postgres/transaction.py)."""
        self.run_statement(statement)
        self.finish(record())
