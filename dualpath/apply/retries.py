"""The retry policy: a lock conflict (lock timeout, deadlock) is retried with backoff, and audited."""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from dualpath import history
from dualpath.apply.base import RunnerBase
from dualpath.apply.common import message_of
from dualpath.changes import Change, Statement
from dualpath.engines.verbatim import run_statement


class Retries(RunnerBase):
    """Runner's retries of lock conflicts."""

    def _execute_with_retries(self, conn: Connection, change: Change, statement: Statement,
                              then: Callable[[Connection], None] | None = None) -> None:
        """``then`` runs in the statement's transaction (a batched change's checkpoint row)."""
        alone = self.outside_transaction(change, statement)
        for attempt in range(self.safety.lock_retries + 1):
            try:
                if alone:
                    with self.engine.autocommit(conn):
                        run_statement(conn, statement)
                    if then is not None:
                        with conn.begin():
                            then(conn)
                    return
                with conn.begin():
                    run_statement(conn, statement)
                    if then is not None:
                        then(conn)
                return
            except DBAPIError as exc:
                if self.is_lock_conflict(exc) and attempt < self.safety.lock_retries:
                    self._note_retry(conn, change, statement, attempt, exc)
                    continue
                raise

    def is_lock_conflict(self, exc: BaseException) -> bool:
        """Lost a lock wait (timeout) or was chosen as a deadlock victim: the server rolled the work back,
        so running it again is safe."""
        return self.engine.is_lock_timeout(exc) or self.engine.is_deadlock(exc)

    def conflict_kind(self, exc: BaseException) -> str:
        return "deadlock" if self.engine.is_deadlock(exc) else "lock timeout"

    def _note_retry(self, conn: Connection, change: Change, statement: Statement | None,
                    attempt: int, exc: DBAPIError) -> None:
        if conn.in_transaction():
            conn.rollback()
        wait_ms = self.safety.retry_backoff_ms * (2 ** attempt)
        where = statement.where if statement else change.where
        kind = self.conflict_kind(exc)
        self.echo(f"{kind} at {where}; retry {attempt + 1}/{self.safety.lock_retries} in {wait_ms} ms")
        with conn.begin():
            history.audit(conn, self.actor, kind.replace(" ", "-"), version=change.version,
                          ticket=change.ticket_by(self.ticket_pattern),
                          detail={"at": where, "attempt": attempt + 1, "error": message_of(exc)})
        time.sleep(wait_ms / 1000)

