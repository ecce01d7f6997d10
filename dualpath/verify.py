"""Shadow verification: every pending change goes up, down and up again on a copy of the target's schema.

F0 → up → F1 → down → must equal F0 → up → must equal F1, with fingerprints compared; a
difference names the object and the file:line to fix. The first up is a lock rehearsal
(see rehearse.py). With sampled rows, changes that move data also compare per-table row
counts and checksums across the round trip. The shadow is dropped afterwards, also on failure.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from dualpath import history
from dualpath.apply import Runner, new_run_id
from dualpath.changes import Change
from dualpath.config import Safety
from dualpath.engines import open_engine
from dualpath.engines.base import Engine, Fingerprint
from dualpath.engines.fingerprint import is_foreign_table
from dualpath.engines.verbatim import run_verbatim
from dualpath.errors import DualpathError, PrivilegeMissing, VerificationFailed
from dualpath.rehearse import DML, Measured, rehearsal_findings, rehearse_up
from dualpath.risk.catalogue import Catalogue, catalogue_for, family_of
from dualpath.risk.context import same_name
from dualpath.risk.model import Finding
from dualpath.risk.ops import SqlSyntaxError, extract_ops
from dualpath.target import Target
from dualpath.urls import safe_url

Echo = Callable[[str], None]
_OBJECT = re.compile(r"^(?P<kind>\w+) (?P<name>.+?): (?P<what>.*)$")


@dataclass
class ChangeResult:
    version: str
    description: str
    where: str
    ok: bool = True
    problems: list[str] = field(default_factory=list)  # what differs and where to fix it
    measured: list[Measured] = field(default_factory=list)
    data_checked: bool = False
    skipped_down: str | None = None  # why the down was not run (irreversible)

    def as_dict(self) -> dict[str, Any]:
        return {"version": self.version, "description": self.description, "file": self.where, "ok": self.ok,
                "problems": self.problems, "data_checked": self.data_checked, "skipped_down": self.skipped_down,
                "measured": [m.as_dict() for m in self.measured]}


@dataclass
class Verification:
    target: str
    engine: str
    results: list[ChangeResult] = field(default_factory=list)
    shadow_drift: list[str] = field(default_factory=list)  # shadow vs target before any change
    sample_rows: int = 0
    lock_note: str = ""

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def measured(self) -> list[Measured]:
        return [m for r in self.results for m in r.measured]

    @property
    def findings(self) -> list[Finding]:
        return rehearsal_findings(self.measured)

    def as_dict(self) -> dict[str, Any]:
        return {"target": self.target, "engine": self.engine, "ok": self.ok, "sample_rows": self.sample_rows,
                "shadow_drift": self.shadow_drift, "lock_note": self.lock_note,
                "changes": [r.as_dict() for r in self.results],
                "findings": [f.as_dict() for f in self.findings]}


def verify_changes(engine: Engine, changes: Sequence[Change], *, migrations: Path, safety: Safety,
                   sample_rows: int = 0, pii_columns: Sequence[str] = (), echo: Echo = lambda _: None,
                   shadow_url: URL | None = None) -> Verification:
    """Round-trip ``changes`` (the pending ones, in order) on a shadow of ``engine``'s database.

    The shadow is a new database on the target's server, dropped afterwards; or ``shadow_url``, an empty
    database the user provides (``[verify] shadow_url``: no CREATE DATABASE needed), emptied afterwards.
    """
    with engine.connect() as conn:
        catalogue = catalogue_for(engine.flavor, engine.server_version(conn))
        target_print = engine.fingerprint(conn)
    report = Verification(target=safe_url(engine.url), engine=engine.flavor, sample_rows=sample_rows)
    with _shadow_of(engine, shadow_url, report.target, echo) as shadow_url:
        _verify_on(engine, shadow_url, changes, report, catalogue, target_print,
                   migrations=migrations, safety=safety, sample_rows=sample_rows, pii_columns=pii_columns,
                   echo=echo)
    return report


@contextlib.contextmanager
def _shadow_of(engine: Engine, given: URL | None, target: str, echo: Echo) -> Iterator[URL]:
    """A shadow made for this verify (dropped afterwards), or the user's (checked empty, emptied afterwards)."""
    if given is None:
        try:
            made = engine.create_shadow()
        except PrivilegeMissing as exc:
            raise PrivilegeMissing(exc.message, where=exc.where, hint=(
                f"set [verify] shadow_url (or --shadow-url) to an empty database this user owns, or {exc.hint}; "
                "see docs/configuration.md")) from None
        echo(f"shadow {safe_url(made)} created from {target}")
        try:
            yield made
        finally:
            engine.drop_shadow(made)
            echo(f"shadow {safe_url(made)} dropped")
        return
    shadow = open_engine(given)
    with shadow.run_lock(new_run_id(), "dualpath verify"):  # one verify at a time in a user's shadow
        engine.adopt_shadow(shadow)
        echo(f"shadow {safe_url(given)} (from [verify] shadow_url) filled from {target}")
        try:
            yield given
        finally:
            left = engine.empty_shadow(shadow)
            echo(f"shadow {safe_url(given)} emptied" + (f"; could not drop: {', '.join(left)}" if left else ""))


def _verify_on(engine: Engine, shadow_url: URL, changes: Sequence[Change], report: Verification,
               catalogue: Catalogue, target_print: Fingerprint, *, migrations: Path, safety: Safety,
               sample_rows: int, pii_columns: Sequence[str], echo: Echo) -> None:
    shadow = open_engine(shadow_url)
    if sample_rows:
        copy_sample(engine, shadow, sample_rows, pii_columns)
    runner = _shadow_runner(shadow, shadow_url, list(changes), migrations, safety)
    with shadow.connect() as conn:
        history.ensure_tables(conn)
        conn.commit()
        report.shadow_drift = target_print.diff(shadow.fingerprint(conn))
        report.lock_note = shadow.held_locks(conn).note
        conn.commit()
        known: Fingerprint | None = None  # the shadow's state after the previous change
        for change in changes:
            result, known = round_trip(runner, conn, change, catalogue, track_data=sample_rows > 0, before=known)
            report.results.append(result)
            echo(f"{'ok  ' if result.ok else 'FAIL'} {change.version} {change.description}")
            if not result.ok:
                break  # later changes build on this one: the shadow no longer says anything


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
    result and the fingerprint of the state the shadow was left in (None if unknown).
    """
    engine = runner.engine
    result = ChangeResult(change.version, change.description, change.where)
    moves_data = track_data and _moves_data(change, catalogue)
    result.data_checked = moves_data
    last: Fingerprint | None = None
    try:
        f0 = before if before is not None else engine.fingerprint(conn)
        d0 = _data_sums(engine, conn) if moves_data else {}
        conn.commit()
        result.measured = rehearse_up(engine, conn, change, catalogue,
                                      runner.in_transaction(change, change.forward))
        f1 = last = engine.fingerprint(conn)
        conn.commit()
        if change.irreversible is not None or not change.rollback:
            reason = change.irreversible.args.get("reason", "") if change.irreversible else "no rollback"
            result.skipped_down = reason or "irreversible"
            return result, last
        last = None  # from here the shadow moves again
        runner.run_change(conn, change, "down")
        f2, d2 = engine.fingerprint(conn), _data_sums(engine, conn) if moves_data else {}
        conn.commit()
        result.problems += describe_diff(f0, f2, change, "down")
        result.problems += _data_diff(d0, d2, change)
        if result.problems:  # up again would only trip over what the rollback left behind
            result.ok = False
            return result, None
        runner.run_change(conn, change, "up")
        f3 = last = engine.fingerprint(conn)
        conn.commit()
        result.problems += describe_diff(f1, f3, change, "up")
    except DualpathError as exc:
        result.problems.append(f"{exc.where + ': ' if exc.where else ''}{exc.message}")
        last = None
    result.ok = not result.problems
    return result, last


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
        made = _made_by(change, name)
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


def _made_by(change: Change, name: str) -> str | None:
    """The forward statement that mentions the object (its bare name, as a word)."""
    bare = name.rsplit(".", 1)[-1].strip('"`')
    pattern = re.compile(rf"(?<![\w$]){re.escape(bare)}(?![\w$])", re.I)
    return next((s.where for s in change.forward if pattern.search(s.text)), None)


def _moves_data(change: Change, catalogue: Catalogue) -> bool:
    if change.directive("batch") is not None:
        return True
    for statement in change.forward + change.rollback:
        try:
            ops = extract_ops(statement.text, family_of(catalogue.dialect))
        except SqlSyntaxError:
            continue
        if any(op.kind in DML for op in ops):
            return True
    return False


# -- sampled rows ------------------------------------------------------------------------


def copy_sample(source: Engine, shadow: Engine, rows: int, pii_columns: Sequence[str]) -> None:
    """Up to ``rows`` rows of every table into the shadow, PII columns masked, foreign keys unchecked."""
    with source.connect() as src, shadow.connect() as dst:
        for statement in shadow.load_statements():
            try:
                run_verbatim(dst, statement)
            except DBAPIError as exc:
                raise DualpathError(f"cannot load sampled rows into the shadow ({statement}): "
                                    f"{str(exc.orig).strip().splitlines()[0]}",
                                    hint="use a role that may switch off foreign-key checks, "
                                         "or run verify without --sample-rows") from None
        meta = sa.MetaData()
        for name in list(source.iter_tables(src)):
            if is_foreign_table(name):
                continue
            table = sa.Table(name, meta, autoload_with=src)
            columns = [c for c in table.columns if c.computed is None]
            picked = src.execute(sa.select(*columns).limit(rows)).mappings().all()
            if picked:
                values = [_masked(name, dict(r), pii_columns) for r in picked]
                dst.execute(sa.Table(name, sa.MetaData(), *[c._copy() for c in columns]).insert(), values)
        dst.commit()
        src.rollback()


def _masked(table: str, row: dict[str, Any], pii_columns: Sequence[str]) -> dict[str, Any]:
    for column, value in row.items():
        if value is not None and any(_is_pii(table, column, p) for p in pii_columns):
            row[column] = mask(value)
    return row


def _is_pii(table: str, column: str, listed: str) -> bool:
    owner, _, name = listed.rpartition(".")
    return name.lower() == column.lower() and (not owner or same_name(owner, table))


def mask(value: Any) -> Any:
    """A stable stand-in: equal inputs stay equal (unique keys hold), the original is not recoverable."""
    digest = hashlib.sha256(str(value).encode()).hexdigest()
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(digest[:7], 16)
    if isinstance(value, str):
        return ("pii-" + digest)[: max(len(value), 8)]
    return value if not isinstance(value, bytes) else bytes.fromhex(digest[: 2 * min(len(value), 32)])


def _data_sums(engine: Engine, conn: Connection) -> dict[str, tuple[int, str]]:
    """Per table: row count and a checksum of the rows' content, independent of row order."""
    sums = {}
    for name in engine.iter_tables(conn):
        if is_foreign_table(name):
            continue
        rows = run_verbatim(conn, f"SELECT * FROM {engine.quote_ident(name)}").all()
        digest = hashlib.sha256()
        for line in sorted(repr(tuple(r)) for r in rows):
            digest.update(line.encode())
        sums[name] = (len(rows), digest.hexdigest()[:12])
    return sums


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


def require_ok(report: Verification) -> None:
    """Raise VerificationFailed naming the first failing change and every difference found."""
    for result in report.results:
        if not result.ok:
            raise VerificationFailed(
                f"version {result.version} ({result.description}) does not round-trip:\n  "
                + "\n  ".join(result.problems),
                where=result.where, hint="make the rollback undo exactly what the change does, then verify again")
