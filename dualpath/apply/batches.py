"""A change holding batched statements: run statement by statement with checkpoints (dualpath/batching)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from dualpath import hints, history
from dualpath.apply.common import message_of
from dualpath.apply.journal import Journaling
from dualpath.apply.records import Records
from dualpath.batching import checkpoint
from dualpath.batching.progress import default_progress
from dualpath.batching.spec import replica_urls
from dualpath.changes import Change, Statement
from dualpath.errors import DualpathError

if TYPE_CHECKING:
    from dualpath.batching.runner import BatchContext



class Batches(Journaling, Records):
    """Runner's batched changes."""

    def _run_batched(self, conn: Connection, change: Change, statements: Sequence[Statement],
                     direction: str, started: float) -> None:
        """Statement by statement with checkpoints; batches in chunks. A failure is resumed by a re-run."""
        from dualpath.batching.change import run_batched_change
        from dualpath.batching.runner import lag_probes

        ran: list[str] = []
        try:
            with lag_probes(conn, self.engine, replica_urls()) as probes:
                ctx = self._batch_context(conn, change, direction, probes)
                journal = self._journal(conn, change, direction, refuse_edited=False)
                done = run_batched_change(
                    conn, change, statements, ctx, ran=ran,
                    run_plain=lambda st, then: self._run_plain_of_batch(conn, change, direction, statements,
                                                                        journal, st, then))
        except (DBAPIError, DualpathError) as exc:
            self._record_batch_failure(conn, change, direction, started, ran, exc)
            if isinstance(exc, DualpathError):
                raise
            failed = next((s for s in statements if s.where not in ran), None)
            raise self._failure(change, failed, exc, f"every chunk and statement done so far is committed "
                                f"({len(ran)} of {len(statements)} statements complete); run the same "
                                f"command again to resume from the checkpoint", direction,
                                then=f"run {hints.run_again(direction)} again: it resumes from the "
                                     "checkpoint") from None
        with conn.begin():
            self._record(conn, change, direction, started, True, {"ran": ran, "batched_rows": done.rows})
            # progress the other way belongs to an earlier round trip: the next one starts afresh
            checkpoint.forget(conn, change.version, "down" if direction == "up" else "up")
            history.journal_forget(conn, change.version)

    def _run_plain_of_batch(self, conn: Connection, change: Change, direction: str,
                            statements: Sequence[Statement], journal: dict[int, history.JournalRow],
                            statement: Statement, then: Callable[[Connection], None]) -> None:
        """A plain statement of a batched change; ``then`` writes its done checkpoint."""
        index = next(i for i, s in enumerate(statements) if s is statement)
        entry = journal.get(index)
        if entry is not None and self._took_effect(conn, change, statement, entry):
            with conn.begin():
                self._journal_done(conn, change, direction, index, statement)
                then(conn)
            return
        self._run_journaled(conn, change, direction, index, statement, then, entry=entry)

    def _batch_context(self, conn: Connection, change: Change, direction: str,
                       probes: list[Callable[[], float | None]]) -> BatchContext:
        from dualpath.batching.runner import BatchContext

        def note_retry(statement: Statement, attempt: int, exc: DBAPIError) -> None:
            self.echo(f"{self.conflict_kind(exc)} at {statement.where}; smaller chunks, retry {attempt + 1}/"
                      f"{self.safety.lock_retries}")

        return BatchContext(engine=self.engine, version=change.version, direction=direction,
                            checksum=change.checksum, run_id=self.actor.run_id,
                            attempt=self._attempt[change.version], lock_retries=self.safety.lock_retries,
                            retry_backoff_ms=self.safety.retry_backoff_ms,
                            progress=self.progress or default_progress(self.echo), lag_probes=probes,
                            on_retry=note_retry)

    def _record_batch_failure(self, conn: Connection, change: Change, direction: str, started: float,
                              ran: list[str], exc: Exception) -> None:
        """Up: a failed, resumable row (status shows it); down: audit only, so it stays applied and
        the next rollback resumes it rather than an apply re-marking it applied."""
        error = message_of(exc) if isinstance(exc, DBAPIError) else str(exc).splitlines()[0]
        detail: dict[str, object] = {"ran": ran, "error": error, "rolled_back": False, "resumable": True,
                                     "batched": True}
        with self._unless_server_gone(change, exc, "every chunk done so far is committed with its checkpoint",
                                      direction):
            if conn.in_transaction():
                conn.rollback()
            with conn.begin():
                if direction == "up":
                    self._record(conn, change, direction, started, False, detail)
                else:
                    history.audit(conn, self.actor, "rollback", version=change.version,
                                  ticket=change.ticket_by(self.ticket_pattern),
                                  detail={"success": False, "file": change.where, **detail})

