"""Shadow verification: every pending change goes up, down and up again on a copy of the target's schema.

F0 → up → F1 → down → must equal F0 → up → must equal F1, with fingerprints compared; a
difference names the object and the file:line to fix. The first up is a lock rehearsal
(see rehearse.py). With sampled rows, changes that move data also compare per-table row
counts and checksums across the round trip. The shadow is dropped afterwards, also on failure.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy import Connection
from sqlalchemy.engine import URL

from dualpath import history
from dualpath.apply import Runner, new_run_id
from dualpath.changes import Change
from dualpath.config import Safety
from dualpath.engines import open_engine
from dualpath.engines.base import Engine, Fingerprint
from dualpath.errors import DualpathError
from dualpath.rehearse import DML, rehearse_up
from dualpath.risk.catalogue import Catalogue, catalogue_for, family_of
from dualpath.risk.ops import SqlSyntaxError, extract_ops
from dualpath.sources.common import MISSING_SETTING
from dualpath.target import Target
from dualpath.urls import safe_url
from dualpath.verify_report import ChangeResult, Verification
from dualpath.verify_rows import copy_sample, data_sums
from dualpath.verify_shadow import ShadowSite, named_in

Echo = Callable[[str], None]
_OBJECT = re.compile(r"^(?P<kind>\w+) (?P<name>.+?): (?P<what>.*)$")


def verify_changes(engine: Engine, changes: Sequence[Change], *, migrations: Path, safety: Safety,
                   sample_rows: int = 0, pii_columns: Sequence[str] = (), echo: Echo = lambda _: None,
                   shadow_url: URL | None = None, fail_fast: bool = False, measure: bool = False) -> Verification:
    """Round-trip ``changes`` (the pending ones, in order) on a shadow of ``engine``'s database.

    The shadow is a new database on the target's server, dropped afterwards; or ``shadow_url``, an empty
    database the user provides (``[verify] shadow_url``: no CREATE DATABASE needed), emptied afterwards.
    Every change is judged on its own; a failure that leaves the shadow elsewhere than the change's up
    would, makes the shadow again up to that change. ``fail_fast`` stops at the first failure instead.
    ``measure`` also runs the changes on a fresh shadow with sampled rows and judges what each statement
    did (risk/measure: DP080, DP081).
    """
    with engine.connect() as conn:
        catalogue = catalogue_for(engine.flavor, engine.server_version(conn))
        target_print = engine.fingerprint(conn)
    report = Verification(target=safe_url(engine.url), engine=engine.flavor, sample_rows=sample_rows)
    site = ShadowSite(engine, shadow_url, report.target, changes, echo)
    try:
        with site, _OpenShadow(engine, site, list(changes), migrations, safety, sample_rows, pii_columns) as shadow:
            report.shadow_drift = target_print.diff(shadow.engine.fingerprint(shadow.conn))
            report.lock_note = shadow.engine.held_locks(shadow.conn).note
            shadow.conn.commit()
            _verify_each(shadow, changes, report, catalogue, track_data=sample_rows > 0, echo=echo,
                         fail_fast=fail_fast)
    finally:
        report.server_notes = site.notes
    if measure:
        _measure(engine, changes, catalogue, report, pii_columns, shadow_url, echo)
    return report


def _measure(engine: Engine, changes: Sequence[Change], catalogue: Catalogue, report: Verification,
             pii_columns: Sequence[str], shadow_url: URL | None, echo: Echo) -> None:
    """What each statement does on a shadow with sampled rows, judged by the measured rules only."""
    from dualpath.risk.check import check_change
    from dualpath.risk.live import TableSize
    from dualpath.risk.measure.run import measure_changes

    with engine.connect() as conn:
        sizes = {name: TableSize(s.rows, s.bytes) for name, s in engine.table_sizes(conn).items()}
        conn.rollback()
    measurement = measure_changes(engine, changes, catalogue, pii_columns=pii_columns, shadow_url=shadow_url,
                                  echo=echo)
    report.measure_notes = measurement.notes
    for change in changes:
        report.measured_findings += [f for f in check_change(change, catalogue, sizes=sizes, measurement=measurement)
                                     if f.rule in ("DP080", "DP081")]


class _OpenShadow:
    """The shadow in use: its engine, a runner over it and one connection; made again on demand."""

    def __init__(self, source: Engine, site: ShadowSite, changes: list[Change], migrations: Path, safety: Safety,
                 sample_rows: int, pii_columns: Sequence[str]) -> None:
        self.source, self.site, self.changes = source, site, changes
        self.migrations, self.safety = migrations, safety
        self.sample_rows, self.pii_columns = sample_rows, pii_columns
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> _OpenShadow:
        self._open()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def _open(self) -> None:
        url = self.site.make()
        self.engine = open_engine(url)
        if self.sample_rows:
            copy_sample(self.source, self.engine, self.sample_rows, self.pii_columns)
        self.runner = _shadow_runner(self.engine, url, self.changes, self.migrations, self.safety)
        self.conn = self._stack.enter_context(self.engine.connect())
        history.ensure_tables(self.conn)
        self.conn.commit()

    def rebuild(self, applied: Sequence[Change]) -> None:
        """A new shadow with ``applied`` run forward, as apply would leave it."""
        self._stack.close()
        self._open()
        for change in applied:
            self.runner.run_change(self.conn, change, "up")
        self.conn.commit()


def _verify_each(shadow: _OpenShadow, changes: Sequence[Change], report: Verification, catalogue: Catalogue, *,
                 track_data: bool, echo: Echo, fail_fast: bool) -> None:
    known: Fingerprint | None = None  # the shadow's state after the previous change, when it is that
    blocked: str | None = None  # why the changes left cannot be verified
    for index, change in enumerate(changes):
        if blocked is not None:
            report.results.append(ChangeResult(change.version, change.description, change.where, ok=False,
                                               verified=False, problems=[f"not verified: {blocked}"]))
            echo(f"skip {change.version} {change.description}")
            continue
        result, known = round_trip(shadow.runner, shadow.conn, change, catalogue, track_data=track_data,
                                   before=known)
        report.results.append(result)
        echo(f"{'ok  ' if result.ok else 'FAIL'} {change.version} {change.description}")
        if result.ok:
            continue
        if fail_fast:
            return
        if result.failed_at == "forward":  # later changes build on this one: nothing to stand on
            blocked = f"it comes after version {change.version}, whose forward statements failed on the shadow"
        elif known is None:  # the shadow is not where this change's up leaves it
            echo(f"shadow made again up to {change.version} after its failure")
            try:
                shadow.rebuild(changes[: index + 1])
                report.rebuilds += 1
            except DualpathError as exc:
                blocked = (f"the shadow could not be made again up to version {change.version}: "
                           f"{exc.where + ': ' if exc.where else ''}{exc.message}")


def _shadow_runner(shadow: Engine, url: URL, changes: list[Change], migrations: Path, safety: Safety) -> Runner:
    # no retries on a private shadow: a lock wait there is a bug, not contention
    quiet = safety.model_copy(update={"lock_retries": 0})
    actor = history.make_actor(new_run_id(), migrations, "dualpath verify")
    return Runner(Target("shadow", url, migrations, quiet), shadow, changes, actor, echo=lambda _: None)


def round_trip(runner: Runner, conn: Connection, change: Change, catalogue: Catalogue, *,
               track_data: bool, before: Fingerprint | None = None) -> tuple[ChangeResult, Fingerprint | None]:
    """up → down → up on the shadow; what differs is listed with the file:line to fix.

    ``before`` is the shadow's fingerprint if the caller already has it (the previous change's
    last one): fingerprinting is most of verify's time and grows with the schema. Returns the
    result and the fingerprint of the shadow when it stands where the change's up leaves it (F1);
    None when it stands elsewhere (the caller makes the shadow again) or the forward failed.
    """
    engine = runner.engine
    result = ChangeResult(change.version, change.description, change.where)
    moves_data = track_data and _moves_data(change, catalogue)
    result.data_checked = moves_data
    f1: Fingerprint | None = None
    try:
        result.failed_at = "forward"
        f0 = before if before is not None else engine.fingerprint(conn)
        d0 = data_sums(engine, conn) if moves_data else {}
        conn.commit()
        result.measured = rehearse_up(engine, conn, change, catalogue, runner.in_transaction(change, change.forward),
                                      functools.partial(_reset_for, runner, change))
        f1 = engine.fingerprint(conn)
        conn.commit()
        result.failed_at = None
        if not change.rollback and (change.irreversible is None or _missing_by_policy(change)):
            # a no-op rollback (empty file, or none under [rollback] missing = "irreversible"): its down
            # runs nothing, so the schema after it is the schema after up; judged against before up
            _judge_no_rollback(result, change, f0, f1)
            return result, f1
        if change.irreversible is not None:
            result.skipped_down = change.irreversible.args.get("reason", "") or "irreversible"
            return result, f1
        result.failed_at = "down"
        runner.run_change(conn, change, "down")
        f2, d2 = engine.fingerprint(conn), data_sums(engine, conn) if moves_data else {}
        conn.commit()
        result.problems += describe_diff(f0, f2, change, "down")
        result.problems += _data_diff(d0, d2, change)
        if result.problems:  # up again would only trip over what the rollback left behind
            result.ok = False
            return result, _back_up(runner, conn, change, f1)
        result.failed_at = "up again"
        runner.run_change(conn, change, "up")
        f3 = engine.fingerprint(conn)
        conn.commit()
        result.problems += describe_diff(f1, f3, change, "up")
        result.failed_at = "up again" if result.problems else None
        result.ok = not result.problems
        return result, f3 if result.ok else None
    except DualpathError as exc:
        result.problems.append(f"{exc.where + ': ' if exc.where else ''}{exc.message}")
    result.ok = False
    if result.failed_at == "down" and f1 is not None:
        return result, _back_up(runner, conn, change, f1)
    return result, None


def _back_up(runner: Runner, conn: Connection, change: Change, f1: Fingerprint) -> Fingerprint | None:
    """After a rollback that failed or left differences: the shadow where the change's up leaves it, if one
    more up gets it there (a failed rollback in a transaction left it there already); else None."""
    engine = runner.engine
    try:
        if conn.in_transaction():
            conn.rollback()
        now = engine.fingerprint(conn)
        conn.commit()
        if not f1.diff(now):
            return now
        runner.run_change(conn, change, "up")
        now = engine.fingerprint(conn)
        conn.commit()
    except DualpathError:
        return None
    return now if not f1.diff(now) else None


def _missing_by_policy(change: Change) -> bool:
    """Irreversible only because its rollback is missing or runs nothing ([rollback] missing), not marked so."""
    marked = change.irreversible
    return marked is not None and marked.args.get("implied") == MISSING_SETTING


def _judge_no_rollback(result: ChangeResult, change: Change, f0: Fingerprint, f1: Fingerprint) -> None:
    """A change whose rollback runs nothing is harmless to leave only if its up leaves the schema as it was."""
    left = f0.diff(f1)
    result.no_rollback = "not harmless" if left else "harmless"
    for line in left:
        match = _OBJECT.match(line)
        name = match["name"] if match else line
        made = named_in(change.forward, name)
        result.leaves.append(_left_object(match["kind"], name, match["what"]) if match else line)
        result.notes.append(f"{match['kind'] + ' ' + name if match else line}: left by the forward change, "
                            f"and there is no rollback to undo it{f' (made by {made})' if made else ''}")


def _left_object(kind: str, name: str, what: str) -> str:
    """``table u``, ``index t_a gone``, ``column t.a changed (default NULL → 0)``: what the up leaves."""
    if what == "extra after":
        return f"{kind} {name}"
    if what == "missing after":
        return f"{kind} {name} gone"
    return f"{kind} {name} changed ({what})"


def describe_diff(expected: Fingerprint, actual: Fingerprint, change: Change, step: str) -> list[str]:
    """Each difference as: what, which object, who made it, and the file:line to fix."""
    lines = []
    fix_at = _fix_location(change, step)
    for line in expected.diff(actual):
        match = _OBJECT.match(line)
        if not match:
            lines.append(f"{line} — fix {fix_at}")
            continue
        kind, name, what = match["kind"], match["name"], match["what"]
        made = named_in(change.forward, name)
        if what == "extra after":
            what = "still there after the rollback" if step == "down" else "extra after up again"
        elif what == "missing after":
            what = "gone after the rollback (it existed before the change)" if step == "down" \
                else "missing after up again"
        elif step == "down":
            what = f"not restored by the rollback: before the change {what.replace(' → ', ', after the rollback ')}"
        else:
            what = f"differs when applied again: first {what.replace(' → ', ', second ')}"
        lines.append(f"{kind} {name}: {what}{f' (made by {made})' if made else ''} — fix {fix_at}")
    return lines


def _fix_location(change: Change, step: str) -> str:
    statements = change.rollback if step == "down" else change.forward
    if statements:
        return f"{change.rollback_file or statements[0].file}:{statements[0].line}" if step == "down" \
            else statements[0].where
    return change.rollback_file or change.where


def _moves_data(change: Change, catalogue: Catalogue) -> bool:
    if change.directive("batch") is not None:
        return True
    for statement in (*change.forward, *change.rollback):
        try:
            ops = extract_ops(statement.text, family_of(catalogue.dialect))
        except SqlSyntaxError:
            continue
        if any(op.kind in DML for op in ops):
            return True
    return False


def _data_diff(before: dict[str, tuple[int, str]], after: dict[str, tuple[int, str]], change: Change) -> list[str]:
    fix_at = _fix_location(change, "down")
    lines = []
    for table in sorted(set(before) & set(after)):
        (n0, c0), (n1, c1) = before[table], after[table]
        if n0 != n1:
            lines.append(f"rows of {table}: {n0} before the change, {n1} after the rollback — fix {fix_at}")
        elif c0 != c1:
            lines.append(f"content of {table}: checksum {c0} before the change, {c1} after the rollback "
                         f"— fix {fix_at}")
    return lines


def _reset_for(runner: Runner, change: Change, conn: Connection) -> None:
    runner.reset_session(conn, change)
