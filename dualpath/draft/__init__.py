"""Drafting missing rollbacks: the history up to a change on an empty shadow, the schema before and after
it, the inverse DDL (inverse.py) written in the layout's own form (layouts.py), proved by verify's round trip.

>>> results = draft_rollbacks(engine, changes, migrations=folder, safety=Safety())
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

from sqlalchemy import Connection
from sqlalchemy.engine import URL

from dualpath import history
from dualpath.apply import Runner, new_run_id
from dualpath.changes import Change
from dualpath.config import Safety
from dualpath.draft.inverse import draft_inverse
from dualpath.draft.layouts import Written, rollback_place, write_rollback
from dualpath.draft.rollback import Draft
from dualpath.draft.snapshot import take_snapshot
from dualpath.engines import open_engine
from dualpath.engines.base import Engine
from dualpath.engines.ddl import ddl_for
from dualpath.errors import DualpathError, UsageError
from dualpath.sources.common import split_part
from dualpath.target import Target
from dualpath.urls import safe_url

__all__ = ["DraftResult", "draft_rollbacks", "needs_draft", "prove_drafts", "write_drafts"]

Echo = Callable[[str], None]


@dataclass
class DraftResult:
    change: Change
    place: Path
    draft: Draft | None = None  # None: the shadow never got to this change
    error: str | None = None  # why there is no draft
    written: Written | None = None
    proof: str | None = None  # None: not proved; "proved"; "failed: ..."; "not reached: ..."
    problems: list[str] = field(default_factory=list)

    @property
    def proved(self) -> bool:
        return self.proof == "proved"


def needs_draft(change: Change) -> bool:
    """No rollback SQL, and not a Liquibase changeset that says ``--rollback not required``."""
    return not change.rollback and not change.extra.get("rollback_declared_empty")


def draft_rollbacks(engine: Engine, changes: Sequence[Change], *, migrations: Path, safety: Safety,
                    versions: Sequence[str] = (), shadow_url: URL | None = None, today: date | None = None,
                    echo: Echo = lambda _: None) -> list[DraftResult]:
    """A draft for each change without a rollback (or each of ``versions``), from an empty shadow."""
    wanted = _wanted(changes, versions, migrations)
    if not wanted:
        return []
    results = {c.version: DraftResult(c, rollback_place(c, migrations)) for c in wanted}
    history_to = changes[: max(changes.index(c) for c in wanted) + 1]
    with empty_shadow(engine, shadow_url, echo) as url:
        shadow = open_engine(url)
        runner = _runner(shadow, url, list(history_to), migrations, safety)
        with shadow.connect() as conn:
            history.ensure_tables(conn)
            conn.commit()
            ddl = ddl_for(shadow.name, conn.dialect)
            for change in history_to:
                result = results.get(change.version)
                before = take_snapshot(shadow, conn, ddl) if result else None
                failure = _up(runner, conn, change)
                if failure:
                    _not_reached(results, change, failure)
                    break
                if result and before:
                    result.draft = draft_inverse(before, take_snapshot(shadow, conn, ddl), ddl)
                    echo(f"drafted {change.version} {change.description}")
    return list(results.values())


def _wanted(changes: Sequence[Change], versions: Sequence[str], migrations: Path) -> list[Change]:
    if not versions:
        return [c for c in changes if needs_draft(c)]
    by_version = {c.version: c for c in changes}
    unknown = [v for v in versions if v not in by_version]
    if unknown:
        raise UsageError(f"--version {unknown[0]}: no change has that version in {migrations}",
                         hint=f"choose one of the known versions (latest: {changes[-1].version})" if changes
                         else "add migrations first")
    return [c for c in changes if c.version in versions and needs_draft(c)]


def _up(runner: Runner, conn: Connection, change: Change) -> str | None:
    """Run the forward of ``change`` on the shadow; what went wrong, or None."""
    try:
        runner.run_change(conn, change, "up")
        conn.commit()
    except DualpathError as exc:
        conn.rollback()
        return f"{exc.where + ': ' if exc.where else ''}{exc.message}"
    return None


def _not_reached(results: dict[str, DraftResult], failed: Change, why: str) -> None:
    for result in results.values():
        if result.draft is None and result.error is None:
            result.error = (f"the forward SQL failed on the shadow: {why}" if result.change is failed
                            else f"not reached: version {failed.version} failed on the shadow: {why}")


def drafted_change(change: Change, lines: list[str], place: Path) -> Change:
    """``change`` with the draft as its rollback, split as the reader splits a rollback file."""
    part = split_part("\n".join(lines), place, None)
    return replace(change, rollback=part.statements, rollback_file=str(place))


def write_drafts(results: Sequence[DraftResult], migrations: Path, today: date | None = None) -> None:
    for result in results:
        if result.draft is not None and not result.draft.empty:
            result.written = write_rollback(result.change, migrations, result.draft.lines(today))


def prove_drafts(engine: Engine, changes: Sequence[Change], results: Sequence[DraftResult], *, migrations: Path,
                 safety: Safety, shadow_url: URL | None = None, today: date | None = None,
                 echo: Echo = lambda _: None) -> None:
    """verify's round trip (up → down → up, fingerprints compared) for each draft, on a new empty shadow.

    ``changes`` are read again after writing (so the reader's view of the drafts is what is proved);
    drafts not written are put in as the rollback of their change.
    """
    from dualpath.risk.catalogue import catalogue_for
    from dualpath.verify import round_trip

    drafts = {r.change.version: r for r in results if r.draft is not None and not r.draft.empty}
    if not drafts:
        return
    todo = [c if c.rollback or c.version not in drafts
            else drafted_change(c, drafts[c.version].draft.lines(today), drafts[c.version].place)  # type: ignore[union-attr]
            for c in changes]
    todo = todo[: max(i for i, c in enumerate(todo) if c.version in drafts) + 1]
    with empty_shadow(engine, shadow_url, echo) as url:
        shadow = open_engine(url)
        runner = _runner(shadow, url, todo, migrations, safety)
        with shadow.connect() as conn:
            history.ensure_tables(conn)
            conn.commit()
            catalogue = catalogue_for(shadow.flavor, shadow.server_version(conn))
            for change in todo:
                result = drafts.get(change.version)
                if result is None:
                    failure = _up(runner, conn, change)
                else:
                    checked, _ = round_trip(runner, conn, change, catalogue, track_data=False)
                    result.problems = checked.problems
                    result.proof = "proved" if checked.ok else "failed"
                    failure = None if checked.ok else "its drafted rollback did not round-trip"
                    echo(f"{'proved' if checked.ok else 'FAILED'} {change.version} {change.description}")
                if failure:
                    for other in drafts.values():
                        if other.proof is None:
                            other.proof = f"not reached: version {change.version} failed on the shadow"
                    break


@contextlib.contextmanager
def empty_shadow(engine: Engine, given: URL | None, echo: Echo) -> Iterator[URL]:
    """An empty database on the target's server (dropped afterwards), or the user's (checked empty, emptied)."""
    if given is not None:
        shadow = open_engine(given)
        with shadow.run_lock(new_run_id(), "dualpath draft-rollbacks"):
            _require_empty(shadow, f"the shadow {safe_url(given)} is not empty")
            try:
                yield given
            finally:
                engine.empty_shadow(shadow)
        return
    made = engine.create_shadow()  # the contract's one way to a scratch database; emptied before use
    echo(f"shadow {safe_url(made)} created")
    try:
        shadow = open_engine(made)
        with shadow.connect() as conn:
            shadow.drop_user_objects(conn)
            conn.commit()
        _require_empty(shadow, f"the shadow {safe_url(made)} could not be emptied")
        yield made
    finally:
        engine.drop_shadow(made)
        echo(f"shadow {safe_url(made)} dropped")


def _require_empty(shadow: Engine, message: str) -> None:
    with shadow.connect() as conn:
        left = shadow.user_objects(conn)
    if left:
        raise UsageError(f"{message} ({', '.join(left[:5])}): drafts replay the history from an empty schema",
                         hint="point the shadow at an empty database")


def _runner(shadow: Engine, url: URL, changes: list[Change], migrations: Path, safety: Safety) -> Runner:
    quiet = safety.model_copy(update={"lock_retries": 0})  # a private shadow: a lock wait is a bug
    actor = history.make_actor(new_run_id(), migrations, "dualpath draft-rollbacks")
    return Runner(Target("shadow", url, migrations, quiet), shadow, changes, actor, echo=lambda _: None)
