"""Run changes in order on a shadow, each in its own transaction scope, and measure every forward statement.

The scope is the runner's: on PostgreSQL a change runs in one transaction (locks held to its COMMIT),
unless it or one of its statements is marked no-transaction or it has batches, when each statement
commits alone (no-transaction ones outside any transaction block); on MySQL/MariaDB each statement
commits alone. A statement the shadow refuses ends its change there (its transaction is rolled back,
as on the target); later changes still run. Changes already applied on the target are not run again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from sqlalchemy import Connection
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from dualpath.changes import Change, any_no_transaction
from dualpath.engines.base import Engine
from dualpath.errors import DualpathError
from dualpath.redaction import redact
from dualpath.risk.catalogue import Catalogue
from dualpath.risk.check import build_context
from dualpath.risk.context import Item
from dualpath.risk.measure.beyond import beyond_the_shadow
from dualpath.risk.measure.dependents import find_dependents
from dualpath.risk.measure.observation import Measurement, Observation
from dualpath.risk.measure.shadow import SAMPLE_ROWS, shadow_of

Echo = Callable[[str], None]


class Prober(Protocol):
    def prepare(self, conn: Connection) -> None: ...  # once, on the fresh shadow

    def snapshot(self, conn: Connection) -> Any: ...

    def measure(self, conn: Connection, item: Item, start: Any, version: str, in_block: bool) -> Observation: ...


def prober_for(engine: Engine) -> Prober | None:
    """The prober of the engine's dialect; None where dualpath has none (SQLite)."""
    if engine.name == "postgresql":
        from dualpath.engines.postgres.engine import PostgresEngine
        from dualpath.risk.measure.postgres import PostgresProber

        assert isinstance(engine, PostgresEngine)
        return PostgresProber(engine)
    if engine.name == "mysql":
        from dualpath.engines.mysql.engine import MySQLEngine
        from dualpath.risk.measure.mysql import MySQLProber

        assert isinstance(engine, MySQLEngine)
        return MySQLProber(engine)
    return None


def measure_changes(target: Engine, changes: Sequence[Change], catalogue: Catalogue, *,
                    applied: frozenset[str] = frozenset(), sample_rows: int = SAMPLE_ROWS,
                    pii_columns: Sequence[str] = (), shadow_url: URL | None = None,
                    echo: Echo = lambda _: None) -> Measurement:
    """Measure every forward statement of ``changes`` (in order) on a shadow of ``target``.

    ``applied`` versions are skipped (they are in the target's schema already). The changes of a
    migration folder build on each other: each runs where the ones before it left the shadow. A lone
    file (layout "file") is judged against the target as it is: its transaction is rolled back, or
    where DDL commits (MySQL/MariaDB) it gets a shadow of its own. Without a shadow (no privilege to
    make one, no pg_dump) the dependents are read from the target itself and the notes say why
    nothing was measured.
    """
    measurement = Measurement()
    todo = [c for c in changes if not (c.version and c.version in applied)]
    if not todo:
        return measurement
    if prober_for(target) is None:
        measurement.notes.append(f"not measured: dualpath has no shadow prober for {target.name}")
        return measurement
    try:
        for group in shadow_groups(target, todo):
            with shadow_of(target, group, sample_rows=sample_rows, pii_columns=pii_columns, shadow_url=shadow_url,
                           echo=echo) as shadow:
                prober = prober_for(shadow.engine)
                assert prober is not None
                measurement.sample_rows = 0 if shadow.notes else sample_rows
                with shadow.engine.connect() as conn:
                    prober.prepare(conn)
                    for change in group:
                        _measure_change(shadow.engine, conn, prober, change, catalogue, measurement)
            measurement.notes += [n for n in shadow.notes if n not in measurement.notes]
    except DualpathError as exc:  # no shadow: the catalog still names the dependents
        measurement.notes.append(f"not measured on a shadow: {exc.message}" + (f" ({exc.hint})" if exc.hint else ""))
        unmeasured = [c for c in todo if not any(s.where in measurement.observations for s in c.forward)]
        _dependents_on_target(target, unmeasured, catalogue, measurement)
    return measurement


def on_its_own(change: Change) -> bool:
    """A file linted on its own, outside any migration folder: nothing before it is part of its story."""
    return change.layout == "file"


def shadow_groups(engine: Engine, changes: list[Change]) -> list[list[Change]]:
    """Changes that share a shadow: all of them where a lone file's transaction can be rolled back;
    else each lone file by itself, and the changes of a folder together."""
    if engine.transactional_ddl:
        return [changes]
    groups: list[list[Change]] = []
    for change in changes:
        if on_its_own(change) or not groups or on_its_own(groups[-1][0]):
            groups.append([change])
        else:
            groups[-1].append(change)
    return groups


def applied_versions(target: Engine) -> frozenset[str]:
    """Versions the target's history records as applied (none when it has no dualpath history, or one
    this dualpath cannot read: then every change is measured)."""
    from dualpath import history

    try:
        with target.connect() as conn:
            rows = history.latest_rows(conn)
            conn.rollback()
    except (DBAPIError, DualpathError):
        return frozenset()
    return frozenset(v for v, row in rows.items() if row.is_applied)


def in_one_transaction(engine: Engine, change: Change) -> bool:
    """Does the runner run ``change`` as one transaction on this engine?"""
    from dualpath.batching.spec import has_batches

    return (engine.transactional_ddl and change.directive("no-transaction") is None
            and not any_no_transaction(change.forward) and not has_batches(change.forward))


def _measure_change(engine: Engine, conn: Connection, prober: Prober, change: Change, catalogue: Catalogue,
                    measurement: Measurement) -> None:
    items = build_context(change, catalogue, knows_rollback=True).forward
    whole = in_one_transaction(engine, change)
    start = prober.snapshot(conn)
    conn.commit()
    current: Item | None = None
    try:
        if whole:
            with conn.begin() as transaction:
                for current in items:
                    _measure_one(engine, conn, prober, change, current, start, measurement, True)
                if on_its_own(change):  # judged against the target as it is: leave the shadow so
                    transaction.rollback()
            return
        for current in items:
            alone = engine.transactional_ddl and (current.statement.no_transaction
                                                  or change.directive("no-transaction") is not None)
            if alone:
                with engine.autocommit(conn):
                    _measure_one(engine, conn, prober, change, current, start, measurement, False)
            else:
                with conn.begin():
                    _measure_one(engine, conn, prober, change, current, start, measurement, True)
    except DBAPIError as exc:
        if conn.in_transaction():
            conn.rollback()
        assert current is not None
        measurement.add(Observation(change.version, current.statement.where, refused=_reason(exc),
                                    refusal=refusal_of(exc), method="run on a shadow"))
    except Beyond:  # the rest of the change may need it: measure none of it
        if conn.in_transaction():
            conn.rollback()


class Beyond(Exception):
    """The statement would reach past the shadow's database: it is not run."""


def _measure_one(engine: Engine, conn: Connection, prober: Prober, change: Change, item: Item, start: Any,
                 measurement: Measurement, in_block: bool) -> None:
    measurement.add_dependents(find_dependents(conn, engine.name, item))
    reason = beyond_the_shadow(item, engine.name)
    if reason is not None:
        measurement.add(Observation(change.version, item.statement.where, refused=f"not run on the shadow: {reason}",
                                    refusal="beyond", method="not run"))
        raise Beyond(reason)
    measurement.add(prober.measure(conn, item, start, change.version, in_block))


def _dependents_on_target(target: Engine, changes: Sequence[Change], catalogue: Catalogue,
                          measurement: Measurement) -> None:
    try:
        with target.connect() as conn:
            for change in changes:
                for item in build_context(change, catalogue, knows_rollback=True).forward:
                    measurement.add_dependents(find_dependents(conn, target.name, item))
            conn.rollback()
    except (DBAPIError, DualpathError) as exc:
        measurement.notes.append(f"dependents not read: {_reason(exc)}")


# what a refusal on the shadow says about the target: the object is there already (SQLSTATE class 42
# duplicates, MySQL 1050/1060/1061/1826), or the sampled rows broke a foreign key (a sample of each table is
# not a consistent subset of the database)
_EXISTS = frozenset({"42P07", "42701", "42710", "42P06", "42723", "42P16", 1050, 1060, 1061, 1826})
_SAMPLE = frozenset({"23503", 1452, 1216, 1217})


def refusal_of(exc: DBAPIError) -> str:
    orig = exc.orig
    code = getattr(orig, "sqlstate", None) or (orig.args[0] if orig is not None and orig.args else None)
    return "exists" if code in _EXISTS else "sample" if code in _SAMPLE else ""


def _reason(exc: BaseException) -> str:
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    text = str(getattr(orig, "message", None) or orig).strip()
    return redact(text.splitlines()[0] if text else type(exc).__name__)
