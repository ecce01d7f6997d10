"""What a run will do: where each change stands and which changes run, every obstacle refused before anything runs."""

from __future__ import annotations

from sqlalchemy import Connection

from dualpath import history
from dualpath.apply.base import RunnerBase
from dualpath.apply.common import START
from dualpath.changes import Change, is_repeatable, version_key
from dualpath.edits import (
    check_out_of_order,
    refuse_renamed,
    refuse_unreadable_history,
    refuse_unrecorded,
    warn_missing_and_renamed,
)
from dualpath.errors import TargetRefused, UsageError
from dualpath.status import ChangeState, read_states
from dualpath.unsettled import Unsettled, refusal


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


class Planning(RunnerBase):
    """Runner's planning: states, what an apply or a rollback runs."""

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

