"""Apply and roll back changes on one target, under the run lock, timeouts and history.

A change runs in one transaction where the engine can roll DDL back (PostgreSQL, SQLite),
so a failure leaves nothing behind. Elsewhere (MySQL/MariaDB: DDL commits implicitly) each
statement stands alone, and a failure is recorded with exactly what ran and what to run
by hand to undo it. A change holding ``-- dualpath:batch`` statements runs statement by
statement with checkpoints (dualpath/batching), so a failure or a kill resumes on the next run.
"""

from __future__ import annotations

import contextlib
import functools
import re
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from dualpath import attempts, hints, history
from dualpath.batching import checkpoint
from dualpath.batching.progress import BatchProgress, default_progress
from dualpath.batching.spec import has_batches, is_batched, replica_urls
from dualpath.changes import Change, Statement, any_no_transaction, is_repeatable, version_key
from dualpath.edits import (
    check_out_of_order,
    refuse_renamed,
    refuse_unreadable_history,
    refuse_unrecorded,
    warn_missing_and_renamed,
)
from dualpath.engines.base import Engine
from dualpath.engines.verbatim import run_statement
from dualpath.errors import DualpathError, LockTimeout, RunFailed, TargetRefused, UsageError
from dualpath.history import Actor
from dualpath.status import ChangeState, read_states
from dualpath.target import Target
from dualpath.unsettled import Unsettled, find_unsettled, refusal
from dualpath.urls import redact, safe_url

if TYPE_CHECKING:
    from dualpath.batching.runner import BatchContext

Echo = Callable[[str], None]
Protect = Callable[[list[Change], str], None]  # (changes about to run, "up"|"down")
START = "start"  # `rollback --to start`: before the first change, the same as `--all`


@dataclass
class RunSummary:
    run_id: str
    done: list[tuple[str, str, int]] = field(default_factory=list)  # (version, direction, ms)
    dry_run: bool = False


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]



class StatementUnrecorded(RunFailed):
    """A statement that commits alone ran, and writing what follows it (its done row, the change's history
    row) failed: its journal row stays "started", so the next run settles it like one cut short by a kill."""

    def __init__(self, cause: DBAPIError, message: str, *, where: str, hint: str) -> None:
        super().__init__(message, where=where, hint=hint)
        self.cause = cause


class Runner:
    """Moves one target forward or back through its changes."""

    def __init__(self, target: Target, engine: Engine, changes: list[Change], actor: Actor,
                 echo: Echo = print, ticket_pattern: str | None = None,
                 progress: BatchProgress | None = None, protect: Protect | None = None,
                 out_of_order: bool = True) -> None:
        self.target, self.engine, self.changes, self.actor, self.echo = target, engine, changes, actor, echo
        self.ticket_pattern = ticket_pattern
        self.safety = target.safety
        self.progress = progress  # batches report here; None = a bar on a terminal, lines elsewhere
        self.protect = protect  # takes a verified backup before destructive changes, or refuses
        self.out_of_order = out_of_order  # False: a change below the last applied version is refused
        self._fresh: dict[str, str] = {}  # version -> attempt, its stale progress retired by this run
        self._attempt: dict[str, str] = {}  # version -> attempt of the change running (dualpath/attempts.py)
        self._no_journal: set[str] = set()  # versions known to hold no statement journal rows: none to read

    # -- planning what to run -------------------------------------------------------------

    def states(self, conn: Connection) -> list[ChangeState]:
        """Where each change stands; history this dualpath cannot read is refused (dualpath/edits.py)."""
        found = read_states(conn, self.changes)
        refuse_unreadable_history(found, history.foreign_columns(conn))
        return found

    def pending_up(self, states: list[ChangeState], to: str | None) -> list[Change]:
        self._check_version(to)
        refuse_unrecorded(states)
        refuse_drift(states)
        refuse_partial_failures(states)
        refuse_renamed(states)
        limit = version_key(to) if to else None
        todo = [s.change for s in states
                if s.change is not None and s.state in ("pending", "failed")
                and (limit is None or version_key(s.version) <= limit)]
        warn_missing_and_renamed(states, self.echo)
        check_out_of_order(states, todo, self.out_of_order, self.echo)
        return todo

    def pending_down(self, states: list[ChangeState], to: str | None, steps: int | None,
                     everything: bool = False, unsettled: dict[str, Unsettled] | None = None) -> list[Change]:
        """Newest first, what a rollback undoes; every obstacle on the way (a change left half-way, a file
        gone, an irreversible change) is refused here, before anything runs. A change left half-way
        (dualpath/unsettled.py) counts as a step: it is what the target holds on top."""
        self._check_version(to, rolling_back=True)
        refuse_unrecorded(states)
        refuse_drift(states)
        unsettled = unsettled or {}
        # Flyway repeatables have no way back by nature: a rollback leaves them and goes on past them
        undoable = [s for s in states if (s.state in ("applied", "missing") or s.version in unsettled)
                    and not is_repeatable(s.version)]
        if everything:
            chosen = list(undoable)
        elif to is not None:
            chosen = [s for s in undoable if version_key(s.version) > version_key(to)]
        else:
            chosen = undoable[-steps:] if steps else []
        chosen.reverse()
        for passed, s in enumerate(chosen):
            if s.version in unsettled:
                raise refusal(unsettled[s.version])
            if s.change is None:
                recorded = f" (applied from {s.recorded_file})" if s.recorded_file else ""
                raise TargetRefused(
                    f"version {s.version} {s.description} is applied but its file{recorded} is gone: deleted "
                    "or renamed, so its rollback cannot run; nothing was rolled back", where=s.recorded_file,
                    hint="restore the file from version control under its recorded name, then run the "
                         "rollback again")
            reason = s.change.irreversible
            if reason is not None:
                back = "restore from the backup taken before it (dualpath backup restore)"
                raise TargetRefused(
                    f"version {s.version} is irreversible ({reason.args.get('reason', '')}); nothing was rolled back"
                    + (f": the rollback would reach it after {passed} change(s)" if passed else ""),
                    where=s.change.where,
                    hint=(f"`dualpath rollback --to {s.version}` rolls back the {passed} change(s) after it and "
                          f"keeps it; to go back past it, {back}") if passed else
                         f"to go back past it, {back}; every change after it is already rolled back")
        return [s.change for s in chosen if s.change is not None]

    def _check_version(self, to: str | None, rolling_back: bool = False) -> None:
        if to is None:
            return
        known = {c.version for c in self.changes}
        if to not in known and not any(version_key(to) == c.sort_key for c in self.changes):
            first = min(self.changes, key=lambda c: c.sort_key, default=None)
            if rolling_back and first is not None and version_key(to) < first.sort_key:
                raise UsageError(f"--to {to}: no change has that version; it sorts before the first change "
                                 f"({first.version} {first.description})",
                                 hint=f"to roll back every change: dualpath rollback --all (or --to {START}); "
                                      f"to keep the first change: --to {first.version}")
            sample = ", ".join(sorted(known, key=version_key)[-5:])
            raise UsageError(f"--to {to}: no change has that version",
                             hint=f"choose one of the known versions (latest: {sample})")

    # -- running --------------------------------------------------------------------------

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
        return _ms_since(started)

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
        return _ms_since(started)

    # -- attempts: checkpoints and journal rows count only for the run of the change in progress --------

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

    def in_transaction(self, change: Change, statements: Sequence[Statement]) -> bool:
        # from what reading collected: a big file is not read again to answer this (sources/lazy.py)
        return (self.engine.transactional_ddl and change.directive("no-transaction") is None
                and not any_no_transaction(statements) and not has_batches(statements))

    def outside_transaction(self, change: Change, statement: Statement) -> bool:
        """Where DDL is transactional, a no-transaction statement must run with no transaction block."""
        return self.engine.transactional_ddl and (
            statement.no_transaction or change.directive("no-transaction") is not None)

    def _run_in_transaction(self, conn: Connection, change: Change, statements: Sequence[Statement],
                            direction: str, started: float) -> None:
        """All or nothing: statements and the history row commit together."""
        for attempt in range(self.safety.lock_retries + 1):
            current: Statement | None = None
            try:
                with self.engine.change_transaction(conn) as transaction:
                    for current in statements:
                        transaction.run_statement(current)
                    current = None
                    self.reset_session(transaction.conn, change)  # its SETs end with it, before its history
                    transaction.finish(self._change_record(change, direction, started, True, None))
                return
            except DBAPIError as exc:
                if self.is_lock_conflict(exc) and attempt < self.safety.lock_retries:
                    self._note_retry(conn, change, current, attempt, exc)
                    continue
                detail = {"failed_at": current.where if current else change.where,
                          "error": _message(exc), "rolled_back": True}
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
                detail = {"ran": ran, "failed_at": statement.where, "error": _message(unrecorded.cause),
                          "rolled_back": False, "resumable": True, "in_doubt": statement.where}
                self._record_failure(conn, change, direction, started, detail, keep_journal=True)
                raise
            except DBAPIError as exc:
                ran_text = ", ".join(ran) if ran else "none"
                if _connection_lost(exc):  # like a kill: the journal knows what ran, a re-run resumes
                    detail = {"ran": ran, "failed_at": statement.where, "error": _message(exc),
                              "rolled_back": not ran, "resumable": True, "connection_lost": True}
                    self._record_failure(conn, change, direction, started, detail, keep_journal=True)
                    raise self._failure(change, statement, exc,
                                        f"the connection to the database was lost; statements done and journaled: "
                                        f"{ran_text}; run the same command again to resume after them",
                                        direction, then=f"run {hints.run_again(direction)} again: it resumes "
                                                        "after the journaled statements") from None
                undo = [s.text for s in (change.rollback if direction == "up" else change.forward)]
                # nothing ran = nothing stays, so a later apply may simply retry it
                detail = {"ran": ran, "failed_at": statement.where, "error": _message(exc),
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

    # -- the statement journal: where a change whose statements commit alone stands ---------

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

    def commits_alone(self, change: Change, statement: Statement) -> bool:
        """Can this statement commit without its journal row (DDL on MySQL/MariaDB, a no-transaction
        statement)? Then a kill between the two leaves it in doubt, and "started" is journaled first."""
        if self.outside_transaction(change, statement):
            return True
        return not self.engine.transactional_ddl and not is_transactional_dml(statement.text)

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
            if executed and self.commits_alone(change, statement) and not _connection_lost(exc):
                raise StatementUnrecorded(
                    exc, f"version {change.version}: the statement ran, and recording it failed: {_message(exc)}; "
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
        error = _message(exc) if isinstance(exc, DBAPIError) else str(exc).splitlines()[0]
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
                          detail={"at": where, "attempt": attempt + 1, "error": _message(exc)})
        time.sleep(wait_ms / 1000)

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
            direction=direction, duration_ms=_ms_since(started), success=success, detail=detail,
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
            raise TargetRefused(f"{safe_url(self.target.url)} {what} ({_message(exc)}); nothing ran",
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
                    f"({_message(lost) if isinstance(lost, DBAPIError) else lost}); {kept}", where=change.where,
                    hint=hints.failure_hint(kind, direction, change.where, statement_timeout_ms=0)) from None
            first = exc if isinstance(exc, DBAPIError) else lost
            cause = _message(first) if isinstance(first, DBAPIError) else str(first).splitlines()[0]
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
        return RunFailed(f"version {change.version} {verb}: {_message(exc)}; {aftermath}", where=where,
                         hint=hints.failure_hint(kind, direction, where, then=then,
                                                 statement_timeout_ms=self.safety.statement_timeout_ms))

    # -- dry run ----------------------------------------------------------------------------

    def print_dry_run(self, todo: list[Change], direction: str) -> None:
        from dualpath.batching.change import describe_batch

        verb = "apply" if direction == "up" else "roll back"
        self.echo(f"-- dry run: {len(todo)} change(s) to {verb} on {safe_url(self.target.url)}; nothing is executed")
        for sql in self.engine.timeout_statements(self.safety.lock_timeout_ms, self.safety.statement_timeout_ms):
            self.echo(f"{sql};")
        for change in todo:
            statements = change.forward if direction == "up" else change.rollback
            wrapped = self.in_transaction(change, statements)
            self.echo(f"\n-- {change.version} {change.description} ({change.where})")
            if wrapped:
                self.echo("BEGIN;")
            for s in statements:
                self.echo(f"-- {s.where}\n{s.text};")
                if is_batched(s):
                    for line in describe_batch(self.engine, s):
                        self.echo(line)
            self.echo(f"-- then record version {change.version} ({direction}) in dualpath_history")
            if wrapped:
                self.echo("COMMIT;")


def refuse_drift(states: list[ChangeState]) -> None:
    drifted = [s for s in states if s.state == "drifted"]
    if not drifted:
        return
    lines = [f"{s.version} ({s.where}): applied with checksum {s.row.checksum[:12] if s.row else '?'}, "
             f"file now {s.change.checksum[:12] if s.change else '?'}" for s in drifted]
    raise TargetRefused("migration files changed after they were applied (drift): " + "; ".join(lines),
                        hint="restore the files from version control, or if the edit is intended and "
                             "already reflected in the database, run `dualpath repair` to re-baseline")


def refuse_partial_failures(states: list[ChangeState]) -> None:
    for s in states:
        if s.row is not None and s.row.detail.get("resumable"):
            continue  # a batched change: the next run resumes it from its checkpoints
        if s.state == "failed" and s.row is not None and not s.row.detail.get("rolled_back", True):
            raise TargetRefused(
                f"version {s.version} failed half-way earlier (at {s.row.detail.get('failed_at')}); "
                f"statements that ran: {', '.join(s.row.detail.get('ran', [])) or 'none'}",
                where=s.where,
                hint="undo what ran by hand (see dualpath status --format json), then `dualpath repair`")


_DML = re.compile(r"^\s*(?:--[^\n]*\n\s*|/\*.*?\*/\s*)*(insert|update|delete|replace|select|with|do)\b",
                  re.IGNORECASE | re.DOTALL)


def is_transactional_dml(sql: str) -> bool:
    """Statements that commit only with their transaction (InnoDB), so with their journal row too."""
    return _DML.match(sql) is not None


def _connection_lost(exc: DBAPIError) -> bool:
    return bool(getattr(exc, "connection_invalidated", False))


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _message(exc: DBAPIError) -> str:
    text = str(exc.orig) if exc.orig is not None else str(exc)
    return redact(text.strip().splitlines()[0] if text.strip() else type(exc).__name__)
