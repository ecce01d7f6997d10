"""The statement journal at work: where a change whose statements commit alone stands, and whether an
interrupted statement took effect."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from dualpath import hints, history
from dualpath.apply.common import StatementUnrecorded, connection_lost, is_transactional_dml, message_of
from dualpath.apply.retries import Retries
from dualpath.changes import Change, Statement
from dualpath.engines.verbatim import run_statement
from dualpath.errors import TargetRefused


class Journaling(Retries):
    """Runner's statement journal (history.journal holds the rows)."""

    def _journal(self, conn: Connection, change: Change, direction: str,
                 refuse_edited: bool = True) -> dict[int, history.JournalRow]:
        """What an earlier, interrupted run of this change did; refused if the file changed since
        (a batched change's checkpoints make that refusal themselves)."""
        if change.version in self._no_journal:
            return {}  # the run's first read found none (_retire_stale_progress)
        journal = history.journal_of(conn, change.version, direction, self._attempt[change.version])
        conn.commit()
        stale = [row for row in journal.values() if row.checksum != change.checksum and refuse_edited]
        if stale:
            done = [row.location for row in journal.values() if row.state == history.DONE]
            raise TargetRefused(
                f"version {change.version} was interrupted half-way by an earlier run and its file changed since "
                f"(statements done then: {', '.join(done) or 'none'}); nothing ran", where=change.where,
                hint="restore the file as it was and run again to resume; or undo those statements by hand and "
                     "run `dualpath repair` to start the change afresh")
        if journal:
            count = sum(1 for row in journal.values() if row.state == history.DONE)
            self.echo(f"resuming {change.version} ({'apply' if direction == 'up' else 'rollback'}): an earlier run "
                      f"was interrupted after {count} statement(s)")
        return journal

    def _restore_session(self, conn: Connection, change: Change, statements: Sequence[Statement],
                         journal: dict[int, history.JournalRow]) -> None:
        """A change resumed after a kill runs in a new session: the statements done before it that set only
        session state (``SET @v``, ``SET FOREIGN_KEY_CHECKS = 0``, ``PREPARE``, ``USE``) run again first, in
        their order, so what follows sees the session the interrupted run had (``EXECUTE`` finds its
        prepared statement)."""
        first_open = next((i for i in range(len(statements))
                           if (row := journal.get(i)) is None or row.state != history.DONE), len(statements))
        if first_open == len(statements):
            return  # everything is done: nothing runs after them
        for statement in statements[:first_open]:
            if self.engine.sets_session_state(statement.text):
                self.echo(f"{statement.where}: sets this session's state, which a new session has lost; "
                          "running it again before resuming")
                with conn.begin():
                    run_statement(conn, statement)

    def commits_alone(self, change: Change, statement: Statement) -> bool:
        """Can this statement commit without its journal row (DDL on MySQL/MariaDB, a no-transaction
        statement)? Then a kill between the two leaves it in doubt, and "started" is journaled first."""
        if self.outside_transaction(change, statement):
            return True
        return not self.engine.transactional_ddl and not is_transactional_dml(statement.text) \
            and not self.engine.sets_user_variables_only(statement.text)

    def _run_journaled(self, conn: Connection, change: Change, direction: str, index: int, statement: Statement,
                       then: Callable[[Connection], None] | None = None, *,
                       entry: history.JournalRow | None = None, mark_done: bool = True) -> None:
        """One statement of a change that commits statement by statement. One that commits alone has its
        "started" row (with a digest of what it may change) committed first; ``mark_done`` writes its
        "done" row with it (or right after it); ``then`` runs there too. ``entry``: its row from an earlier,
        interrupted run (to replace rather than add)."""
        has_row = entry is not None
        if self.commits_alone(change, statement):
            with conn.begin():  # the digest is read in the transaction that writes it: one commit
                history.journal_mark(conn, self.actor, version=change.version, direction=direction, index=index,
                                     location=statement.where, checksum=change.checksum, state=history.STARTED,
                                     attempt=self._attempt[change.version],
                                     schema_before=self.engine.statement_digest(conn, statement.text),
                                     session_id=self.engine.session_id(conn), replace=has_row)
            self._no_journal.discard(change.version)
            has_row = True
        executed = False

        def done(c: Connection) -> None:
            nonlocal executed
            executed = True  # the statement ran; what follows only records it
            if mark_done:
                self._journal_done(c, change, direction, index, statement, known=has_row)
            if then is not None:
                then(c)

        try:
            self._execute_with_retries(conn, change, statement, done)
        except DBAPIError as exc:
            if executed and self.commits_alone(change, statement) and not connection_lost(exc):
                raise StatementUnrecorded(
                    exc, f"version {change.version}: the statement ran, and recording it failed: {message_of(exc)}; "
                         "the statement journal keeps it as started", where=statement.where,
                    hint=f"once the database accepts writes again, run {hints.run_again(direction)} again: it "
                         "checks whether the statement took effect and goes on from there") from None
            # the server refused the statement: it did not happen, nothing is in doubt
            if not conn.invalidated:
                if conn.in_transaction():
                    conn.rollback()
                with conn.begin():
                    history.journal_unmark(conn, change.version, direction, index, history.STARTED)
            raise

    def _journal_done(self, conn: Connection, change: Change, direction: str, index: int,
                      statement: Statement, known: bool = True) -> None:
        """``known``: the statement has a row (its "started" one) to update in place."""
        self._no_journal.discard(change.version)
        if not known:
            history.journal_mark(conn, self.actor, version=change.version, direction=direction, index=index,
                                 location=statement.where, checksum=change.checksum, state=history.DONE,
                                 attempt=self._attempt[change.version], replace=False)
            return
        history.journal_set_done(conn, self.actor, version=change.version, direction=direction, index=index,
                                 location=statement.where, checksum=change.checksum,
                                 attempt=self._attempt[change.version])

    def _took_effect(self, conn: Connection, change: Change, statement: Statement,
                     entry: history.JournalRow) -> bool:
        """An interrupted run started this statement and never recorded its end. The server may still be
        running it: wait for that. Then the schema says: unchanged since it started = it did not happen
        (run it); changed = it happened, where one statement is atomic (MySQL/MariaDB DDL)."""
        if entry.state != history.STARTED:
            return False
        self._wait_for_session(conn, change, statement, entry.session_id)
        now = self.engine.digest_like(conn, statement.text, entry.schema_before or "")
        conn.commit()
        if entry.schema_before is None or now == entry.schema_before:
            self.echo(f"{statement.where}: interrupted earlier before it took effect; running it again")
            return False
        if self.outside_transaction(change, statement):
            raise TargetRefused(
                f"version {change.version}: {statement.where} was interrupted by an earlier run and the schema "
                f"changed since it started, so it may have half-run; nothing ran", where=statement.where,
                hint="check what it left (CREATE INDEX CONCURRENTLY leaves an INVALID index): undo it by hand "
                     "and run again, which then runs the statement afresh")
        self.echo(f"{statement.where}: interrupted earlier after it took effect (the schema changed); "
                  "not running it again")
        return True

    def _wait_for_session(self, conn: Connection, change: Change, statement: Statement,
                          session_id: str | None) -> None:
        """A killed client's DDL goes on in the server until it ends (statement timeout at most)."""
        if session_id is None or session_id == self.engine.session_id(conn):
            conn.commit()
            return
        limit_s = (self.safety.statement_timeout_ms or 3_600_000) / 1000 + 5
        deadline, told = time.monotonic() + limit_s, False
        while self.engine.session_busy(conn, session_id):
            conn.commit()
            if time.monotonic() > deadline:
                raise TargetRefused(
                    f"version {change.version}: the interrupted run's session {session_id} still runs "
                    f"{statement.where} after {limit_s:.0f} s; nothing ran", where=statement.where,
                    hint=f"wait for it to end, or end it (MySQL/MariaDB: KILL {session_id}), then run again")
            if not told:
                self.echo(f"waiting for session {session_id} of the interrupted run to finish {statement.where}")
                told = True
            time.sleep(0.1)
        conn.commit()

