"""What a run writes and says about a change: history and audit rows, failures with what to do next."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from dualpath import hints, history
from dualpath.apply.base import RunnerBase
from dualpath.apply.common import message_of, ms_since
from dualpath.changes import Change, Statement
from dualpath.errors import LockTimeout, RunFailed, TargetRefused
from dualpath.urls import safe_url


class Records(RunnerBase):
    """Runner's records and failures."""

    def reset_session(self, conn: Connection, change: Change) -> None:
        """Back to the session the run opened (engines/base.py reset_session), its timeouts included, when
        the change may have changed it: a round trip or two saved on every change that has no SET/USE."""
        if change.changes_session:
            self.engine.reset_session(conn, self.safety.lock_timeout_ms, self.safety.statement_timeout_ms)

    def _record(self, conn: Connection, change: Change, direction: str, started: float, success: bool,
                detail: dict[str, object] | None) -> None:
        self.reset_session(conn, change)  # the change's SET search_path / SET ROLE ends with it, before the history
        self.engine.write_change_record(conn, self._change_record(change, direction, started, success, detail))

    def _change_record(self, change: Change, direction: str, started: float, success: bool,
                       detail: dict[str, object] | None) -> history.ChangeRecord:
        return history.change_record(
            self.actor, version=change.version, description=change.description, checksum=change.checksum,
            direction=direction, duration_ms=ms_since(started), success=success, detail=detail,
            action="apply" if direction == "up" else "rollback", ticket=change.ticket_by(self.ticket_pattern),
            audit_detail={"success": success, "file": change.where, **(detail or {})})

    def _record_failure(self, conn: Connection, change: Change, direction: str, started: float,
                        detail: dict[str, object], keep_journal: bool = False) -> None:
        """On a lost connection SQLAlchemy reconnects at the next begin(): the record still lands.
        A rollback that changed nothing, or that a re-run resumes, is audited only: the change is still
        applied, and a "failed" down row would make the next apply run its forward statements again."""
        kept = ("its transaction was rolled back: nothing of this change stays" if detail.get("rolled_back")
                else "the statement journal says which statements ran")
        with self._unless_server_gone(change, None, kept, direction):
            if conn.in_transaction():
                conn.rollback()
            with conn.begin():
                if direction == "down" and (keep_journal or detail.get("rolled_back")):
                    self.reset_session(conn, change)
                    history.audit(conn, self.actor, "rollback", version=change.version,
                                  ticket=change.ticket_by(self.ticket_pattern),
                                  detail={"success": False, "file": change.where, **detail})
                else:
                    self._record(conn, change, direction, started, False, detail)
                if not keep_journal:
                    history.journal_forget(conn, change.version)  # the failure row lists what ran; repair starts afresh

    @contextlib.contextmanager
    def _refusing_unwritable(self, direction: str) -> Iterator[None]:
        """A read-only connection or a user without write privileges is refused before anything runs."""
        try:
            yield
        except DBAPIError as exc:
            kind = self.engine.failure_kind(exc)
            if kind not in ("read_only", "permission"):
                raise
            what = "accepts no writes" if kind == "read_only" else "refuses writes by this user"
            raise TargetRefused(f"{safe_url(self.target.url)} {what} ({message_of(exc)}); nothing ran",
                                hint=hints.failure_hint(kind, direction, "", statement_timeout_ms=0)) from None

    @contextlib.contextmanager
    def _unless_server_gone(self, change: Change, exc: BaseException | None, kept: str,
                            direction: str) -> Iterator[None]:
        """Recording a failure needs the server; when it is down or restarting, say what stands
        instead of an internal error: nothing was recorded, and a re-run picks up from what is.
        A server that is up but refuses the write (read-only, no privilege) is named as such."""
        try:
            yield
        except SQLAlchemyError as lost:
            kind = self.engine.failure_kind(lost)
            if kind in ("read_only", "permission"):
                raise RunFailed(
                    f"version {change.version} failed and its failure could not be recorded: the target "
                    f"{'accepts no writes' if kind == 'read_only' else 'refuses writes by this user'} "
                    f"({message_of(lost) if isinstance(lost, DBAPIError) else lost}); {kept}", where=change.where,
                    hint=hints.failure_hint(kind, direction, change.where, statement_timeout_ms=0)) from None
            first = exc if isinstance(exc, DBAPIError) else lost
            cause = message_of(first) if isinstance(first, DBAPIError) else str(first).splitlines()[0]
            raise RunFailed(
                f"version {change.version} was interrupted: the database server went away ({cause}); "
                f"{kept}; the failure could not be recorded", where=change.where,
                hint="when the server is back, run the same command again: it resumes from what the "
                     "database holds") from None

    def _failure(self, change: Change, statement: Statement | None, exc: DBAPIError, aftermath: str,
                 direction: str, then: str | None = None) -> Exception:
        """The error for a failed change; its hint fits the direction, the server's error and what stays."""
        where = statement.where if statement else change.where
        verb = "failed" if direction == "up" else "failed to roll back"
        if self.engine.is_lock_timeout(exc):
            return LockTimeout(
                f"version {change.version}: lock not granted within {self.safety.lock_timeout_ms} ms "
                f"after {self.safety.lock_retries + 1} attempts; {aftermath}", where=where,
                hint="find the session holding the lock (long transaction?), then "
                     + (then or f"run {hints.run_again(direction)} again in a quieter moment"))
        kind = self.engine.failure_kind(exc)
        return RunFailed(f"version {change.version} {verb}: {message_of(exc)}; {aftermath}", where=where,
                         hint=hints.failure_hint(kind, direction, where, then=then,
                                                 statement_timeout_ms=self.safety.statement_timeout_ms))

