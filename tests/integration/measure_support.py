"""Helpers for the shadow-measurement tests: a schema on a test database, changes measured on a shadow of it."""

from __future__ import annotations

from pathlib import Path

from dualpath.changes import Change
from dualpath.engines import open_engine
from dualpath.risk.catalogue import catalogue_for
from dualpath.risk.check import check_change
from dualpath.risk.measure.observation import Measurement, TableWork
from dualpath.risk.measure.run import measure_changes
from dualpath.risk.model import Finding
from dualpath.sql import split_statements


def load(url: str, schema: str) -> None:
    engine = open_engine(url)
    with engine.connect() as conn:
        for statement in split_statements(schema, file="schema.sql", dialect=engine.name):
            conn.exec_driver_sql(statement.text)
        conn.commit()


def changes_of(url: str, cases: dict[str, str]) -> list[Change]:
    """One change per case, its file named after the case (``<name>.sql``), in the order given."""
    dialect = open_engine(url).name
    return [Change(version=str(n), description=name, file=f"{name}.sql", rollback=(),
                   forward=tuple(split_statements(sql, file=f"{name}.sql", dialect=dialect)))
            for n, (name, sql) in enumerate(cases.items(), 1)]


def measure(url: str, schema: str, cases: dict[str, str]) -> tuple[Measurement, dict[str, list[Finding]]]:
    """Load ``schema``, measure every case on a shadow, and lint each with the measurement."""
    load(url, schema)
    engine = open_engine(url)
    with engine.connect() as conn:
        catalogue = catalogue_for(engine.flavor, engine.server_version(conn))
    changes = changes_of(url, cases)
    measurement = measure_changes(engine, changes, catalogue)
    findings = {c.description: check_change(c, catalogue, measurement=measurement) for c in changes}
    return measurement, findings


def work(measurement: Measurement, where: str, table: str) -> TableWork:
    observation = measurement.observed(where)
    assert observation is not None, f"{where} was not measured: {measurement.notes}"
    assert observation.refused is None, observation.refused
    found = [w for w in observation.tables if w.table.rsplit(".", 1)[-1] == table]
    assert found, f"{where}: nothing measured on {table}: {observation}"
    return found[0]


def rules(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings}


def shadows_left(url: str) -> list[str]:
    """Databases named like a shadow of the test database, still on the server."""
    engine = open_engine(url)
    database = engine.url.database or ""
    sql = ("SELECT datname FROM pg_database" if engine.name == "postgresql" else "SHOW DATABASES")
    with engine.connect() as conn:
        names = [str(r[0]) for r in conn.exec_driver_sql(sql)]
    return [n for n in names if n.startswith(f"dp_shadow_{database[:32]}")]


def write(folder: Path, name: str, sql: str) -> Path:
    path = folder / name
    path.write_text(sql)
    return path
