"""The runner: one target moved forward or back through its changes, change by change."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from dualpath import attempts, hints, history
from dualpath.apply.batches import Batches
from dualpath.apply.common import (
    START,
    RunSummary,
    StatementUnrecorded,
    connection_lost,
    message_of,
    ms_since,
)
from dualpath.apply.dry_run import DryRun
from dualpath.apply.planning import Planning
from dualpath.batching.spec import has_batches
from dualpath.changes import Change, Statement, version_key
from dualpath.errors import UsageError
from dualpath.status import ChangeState
from dualpath.unsettled import find_unsettled


class Runner(Planning, Batches, DryRun):
    """Moves one target forward or back through its changes: plans (planning.py), runs each change in
    one transaction, statement by statement with the journal (journal.py) or in batches (batches.py),
    retries lock conflicts (retries.py) and records the outcome (records.py)."""

    def apply(self, to: str | None = None, dry_run: bool = False) -> RunSummary:
        return self._run("up", dry_run, lambda conn, st: self.pending_up(st, to))

    def rollback(self, to: str | None = None, steps: int | None = None, dry_run: bool = False,
                 everything: bool = False) -> RunSummary:
        """Back to ``to`` (kept), by ``steps``, or ``everything`` (also ``to="start"``): before the first change."""
        if to is not None and to.strip().lower() == START:
            everything, to = True, None
        if everything and (to is not None or steps):
            raise UsageError("--all (or --to start) rolls back every change; it takes no --to VERSION or --steps N",
                             hint="give one of --all, --to VERSION, --steps N")
        if to is None and not steps and not everything:
            raise UsageError("rollback needs --to VERSION or --steps N, or --all for every change",
                             hint="e.g. dualpath rollback --steps 1")
        idle = "nothing to roll back"
        if to is not None:
            kept = next((c for c in self.changes if version_key(to) == c.sort_key), None)
            idle += (f": no applied change after version {kept.version if kept else to} (--to keeps that version; "
                     "dualpath rollback --all rolls back every change)")
        return self._run("down", dry_run, lambda conn, st: self.pending_down(
            st, to, steps, everything, find_unsettled(conn, st)), idle=idle)

    def _run(self, direction: str, dry_run: bool,
             choose: Callable[[Connection, list[ChangeState]], list[Change]],
             idle: str = "nothing to roll back") -> RunSummary:
        summary = RunSummary(run_id=self.actor.run_id, dry_run=dry_run)
        if dry_run:
            with self.engine.connect() as conn:
                todo = choose(conn, self.states(conn))
                conn.rollback()
            self.print_dry_run(todo, direction)
            return summary
        self.engine.ensure_exists()
        with self.engine.run_lock(self.actor.run_id, self.actor.host), self.engine.connect() as conn:
            self.engine.apply_timeouts(conn, self.safety.lock_timeout_ms, self.safety.statement_timeout_ms)
            states = self.states(conn)
            todo = choose(conn, states)
            conn.commit()  # end the read so each change opens its own transaction
            if todo:  # the checks (and their parser) only for a run with something to do
                from dualpath import preflight

                preflight.check_run(conn, self.engine, todo, direction)  # refused input leaves no trace
            with self._refusing_unwritable(direction):
                history.ensure_tables(conn)
                conn.commit()
            if todo:
                with self._refusing_unwritable(direction):
                    history.probe_write(conn)
            if todo and self.protect is not None:
                self.protect(todo, direction)
            self._retire_stale_progress(conn, todo, direction, states)
            if not todo:
                self.echo("nothing to do: the target is up to date" if direction == "up" else idle)
            for change in todo:
                verdict = self._precondition(conn, change, direction)
                if verdict == "skip":
                    continue
                ms = self.run_change(conn, change, direction) if verdict == "run" else self._mark_ran(conn, change)
                summary.done.append((change.version, direction, ms))
                verb = "applied" if direction == "up" else "rolled back"
                self.echo(f"{verb} {change.version} {change.description} ({ms} ms)")
        return summary

    def _precondition(self, conn: Connection, change: Change, direction: str) -> str:
        """Liquibase preconditions of a changeset going up (dualpath/preconditions.py): run, skip or mark_ran."""
        if direction != "up" or "preconditions" not in change.extra:
            return "run"
        from dualpath import preconditions

        return preconditions.judge(self.engine, conn, change, self.echo)

    def _mark_ran(self, conn: Connection, change: Change) -> int:
        """Recorded as applied with nothing run: Liquibase's MARK_RAN."""
        started = time.monotonic()
        with self.engine.change_transaction(conn) as transaction:
            transaction.finish(self._change_record(change, "up", started, True, {"marked_ran": True}))
        return ms_since(started)

    def run_change(self, conn: Connection, change: Change, direction: str) -> int:
        statements = change.forward if direction == "up" else change.rollback
        started = time.monotonic()
        if has_batches(statements):
            self._begin_attempt(conn, change, direction)
            self._run_batched(conn, change, statements, direction, started)
        elif self.in_transaction(change, statements):
            self._run_in_transaction(conn, change, statements, direction, started)
        else:
            self._begin_attempt(conn, change, direction)
            self._run_one_by_one(conn, change, statements, direction, started)
        return ms_since(started)

    def _retire_stale_progress(self, conn: Connection, todo: list[Change], direction: str,
                               states: list[ChangeState]) -> None:
        """Once per run, before the first change: progress rows of runs that are over go (one query)."""
        known = {s.version: s.row.attempt if s.row else history.NO_ATTEMPT for s in states}
        self._fresh = {c.version: known.get(c.version, history.NO_ATTEMPT) for c in todo}
        kept = attempts.retire_stale(conn, self._fresh, direction)
        self._no_journal = set(self._fresh) - kept  # read once here rather than once per change

    def _begin_attempt(self, conn: Connection, change: Change, direction: str) -> None:
        """The attempt this run of the change belongs to; its stale rows retired unless this run did."""
        attempt = self._fresh.pop(change.version, None)
        if attempt is None:  # run_change called on its own (verify's round trip)
            attempt = history.attempt_of(conn, change.version)
            if attempts.retire_stale(conn, {change.version: attempt}, direction):
                self._no_journal.discard(change.version)
            else:
                self._no_journal.add(change.version)
        self._attempt[change.version] = attempt

    def _run_in_transaction(self, conn: Connection, change: Change, statements: Sequence[Statement],
                            direction: str, started: float) -> None:
        """All or nothing: statements and the history row commit together."""
        for attempt in range(self.safety.lock_retries + 1):
            current: Statement | None = None
            try:
                with self.engine.change_transaction(conn) as transaction:
                    # the last statement may travel with the record (one round trip less per change), unless
                    # the session must be reset between the two
                    together = bool(statements) and not change.changes_session
                    for current in statements[:-1] if together else statements:
                        transaction.run_statement(current)
                    if together:
                        current = statements[-1]
                        transaction.finish_after(current, lambda: self._change_record(change, direction, started,
                                                                                      True, None))
                        return
                    current = None
                    self.reset_session(transaction.conn, change)  # its SETs end with it, before its history
                    transaction.finish(self._change_record(change, direction, started, True, None))
                return
            except DBAPIError as exc:
                if self.is_lock_conflict(exc) and attempt < self.safety.lock_retries:
                    self._note_retry(conn, change, current, attempt, exc)
                    continue
                detail = {"failed_at": current.where if current else change.where,
                          "error": message_of(exc), "rolled_back": True}
                self._record_failure(conn, change, direction, started, detail)
                raise self._failure(change, current, exc, "its transaction was rolled back: "
                                    "nothing of this change stays", direction) from None

    def _run_one_by_one(self, conn: Connection, change: Change, statements: Sequence[Statement],
                        direction: str, started: float) -> None:
        """Each statement commits alone, journaled so a killed run resumes at the next statement;
        a failure lists what ran and how to undo it. The last statement is not marked done: the
        change's history row and the end of its journal are written with it (or right after it,
        for a statement that commits alone, whose "started" row then says it is in doubt)."""
        journal = self._journal(conn, change, direction)
        ran = [statements[i].where for i, row in sorted(journal.items()) if row.state == history.DONE]
        self._restore_session(conn, change, statements, journal)
        recorded = False

        def finish(c: Connection, last: Statement | None = None) -> None:
            nonlocal recorded
            self._complete(c, change, direction, started, ran + ([last.where] if last else []))
            recorded = True

        for index, statement in enumerate(statements):
            entry = journal.get(index)
            if entry is not None and entry.state == history.DONE:
                continue  # an earlier, interrupted run did it
            last = index == len(statements) - 1
            try:
                if entry is not None and self._took_effect(conn, change, statement, entry):
                    with conn.begin():
                        if last:
                            finish(conn, statement)
                        else:
                            self._journal_done(conn, change, direction, index, statement)
                else:
                    self._run_journaled(conn, change, direction, index, statement, entry=entry,
                                        then=functools.partial(finish, last=statement) if last else None,
                                        mark_done=not last)
            except StatementUnrecorded as unrecorded:  # like a kill after the statement: a re-run settles it
                detail = {"ran": ran, "failed_at": statement.where, "error": message_of(unrecorded.cause),
                          "rolled_back": False, "resumable": True, "in_doubt": statement.where}
                self._record_failure(conn, change, direction, started, detail, keep_journal=True)
                raise
            except DBAPIError as exc:
                ran_text = ", ".join(ran) if ran else "none"
                if connection_lost(exc):  # like a kill: the journal knows what ran, a re-run resumes
                    detail = {"ran": ran, "failed_at": statement.where, "error": message_of(exc),
                              "rolled_back": not ran, "resumable": True, "connection_lost": True}
                    self._record_failure(conn, change, direction, started, detail, keep_journal=True)
                    raise self._failure(change, statement, exc,
                                        f"the connection to the database was lost; statements done and journaled: "
                                        f"{ran_text}; run the same command again to resume after them",
                                        direction, then=f"run {hints.run_again(direction)} again: it resumes "
                                                        "after the journaled statements") from None
                undo = [s.text for s in (change.rollback if direction == "up" else change.forward)]
                # nothing ran = nothing stays, so a later apply may simply retry it
                detail = {"ran": ran, "failed_at": statement.where, "error": message_of(exc),
                          "rolled_back": not ran, "to_undo_by_hand": undo if ran else []}
                self._record_failure(conn, change, direction, started, detail)
                undo_side = "rollback" if direction == "up" else "forward"
                aftermath = (f"statements that ran and stay: {ran_text}; to undo them run the {undo_side} "
                             f"statements of {change.version} that match, then `dualpath repair`" if ran
                             else "no statement of this change had run, so nothing of it stays")
                raise self._failure(change, statement, exc, aftermath, direction,
                                    then=(f"undo the statements that ran by hand (the matching {undo_side} "
                                          f"statements), run `dualpath repair`, then run "
                                          f"{hints.run_again(direction)} again") if ran else None) from None
            ran.append(statement.where)
        if not recorded:  # no statement, or the last one done by an earlier run
            with conn.begin():
                finish(conn)

    def _complete(self, conn: Connection, change: Change, direction: str, started: float, ran: list[str]) -> None:
        """The change's success row and audit row; its journal goes (none to delete when it had none)."""
        self._record(conn, change, direction, started, True, {"ran": ran})
        if change.version not in self._no_journal:
            history.journal_forget(conn, change.version)

