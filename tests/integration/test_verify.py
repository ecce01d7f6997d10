"""`dualpath verify`: shadow round trips pass for good changes and name what a broken rollback forgets."""

from __future__ import annotations

import glob
import json
from pathlib import Path

import pytest
from sqlalchemy import text

from dualpath.config import Safety
from dualpath.engines import open_engine
from dualpath.engines.probes import shadow_prefix
from dualpath.sources import read_changes
from dualpath.verify import copy_sample, verify_changes
from tests.integration.helpers import dialect_of, run_cli, write_config
from tests.unit.layouts import write_layout

pytestmark = pytest.mark.integration

CREATE = {
    "postgresql": "CREATE TABLE gadgets (id integer PRIMARY KEY, name varchar(50));",
    "mysql": "CREATE TABLE gadgets (id INT PRIMARY KEY, name VARCHAR(50));",
    "sqlite": "CREATE TABLE gadgets (id INTEGER PRIMARY KEY, name VARCHAR(50));",
}
NOTHING = "SELECT 1;"  # a rollback that forgets everything


def _sqlite_rebuild(definition: str) -> str:
    """SQLite changes a default or a constraint only by rebuilding the table."""
    return (f"CREATE TABLE gadgets_new (id INTEGER PRIMARY KEY, name VARCHAR(50) {definition});\n"
            "INSERT INTO gadgets_new SELECT id, name FROM gadgets;\nDROP TABLE gadgets;\n"
            "ALTER TABLE gadgets_new RENAME TO gadgets;")


# what the second change does, per dialect, and what the broken rollback is then caught forgetting
FORGOTTEN = {
    "index": ({d: "CREATE INDEX gadgets_name_idx ON gadgets (name);" for d in CREATE}, "gadgets_name_idx"),
    "default": ({"postgresql": "ALTER TABLE gadgets ALTER COLUMN name SET DEFAULT 'x';",
                 "mysql": "ALTER TABLE gadgets ALTER COLUMN name SET DEFAULT 'x';",
                 "sqlite": _sqlite_rebuild("DEFAULT 'x'")}, "gadgets.name: not restored"),
    "constraint": ({"postgresql": "ALTER TABLE gadgets ADD CONSTRAINT gadgets_name_check CHECK (name <> '');",
                    "mysql": "ALTER TABLE gadgets ADD CONSTRAINT gadgets_name_check CHECK (name <> '');",
                    "sqlite": _sqlite_rebuild("CONSTRAINT gadgets_name_check CHECK (name <> '')")},
                   "gadgets_name_check"),
    "column": ({d: "ALTER TABLE gadgets ADD COLUMN color VARCHAR(10);" for d in CREATE}, "gadgets.color"),
}


def _project(folder: Path, dialect: str, up: str, down: str) -> Path:
    migrations = folder / "migrations"
    migrations.mkdir(parents=True)
    (migrations / "V1__create_gadgets.sql").write_text(CREATE[dialect] + "\n")
    (migrations / "U1__create_gadgets.sql").write_text("DROP TABLE gadgets;\n")
    (migrations / "V2__change_gadgets.sql").write_text(up + "\n")
    (migrations / "U2__change_gadgets.sql").write_text(down + "\n")
    return migrations


def shadows_of(url: str) -> list[str]:
    """Shadow databases (or files) of this target still present."""
    engine = open_engine(url)
    if engine.name == "sqlite":
        return glob.glob(f"{engine.url.database}.shadow-*")
    prefix = shadow_prefix(engine.url.database or "")
    with engine.connect() as conn:
        if engine.name == "postgresql":
            names = conn.execute(text("SELECT datname FROM pg_database")).scalars()
        else:
            names = conn.execute(text("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA")).scalars()
        return [n for n in names if n.startswith(prefix)]


def test_good_changes_round_trip_and_the_shadow_goes(any_url: str, tmp_path: Path) -> None:
    folder = write_layout("flyway", tmp_path / "migrations", dialect_of(any_url))
    config = write_config(tmp_path, any_url)
    result = run_cli("verify", "--config", str(config), "--url", "db", "--migrations", str(folder),
                     "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert [(c["version"], c["ok"], c["problems"]) for c in report["changes"]] == [("1", True, []), ("2", True, [])]
    # the rehearsal measured the ALTERs of change 2 on the existing table widgets
    measured = report["changes"][1]["measured"]
    assert {m["table"] for m in measured} == {"widgets"}
    assert all(m["where"].startswith(str(folder / "V2__add_widget_price.sql")) for m in measured)
    assert shadows_of(any_url) == []


@pytest.mark.parametrize("forgotten", list(FORGOTTEN))
def test_a_rollback_that_forgets_is_caught_with_the_file_to_fix(forgotten: str, any_url: str,
                                                                tmp_path: Path) -> None:
    dialect = dialect_of(any_url)
    ups, expected = FORGOTTEN[forgotten]
    migrations = _project(tmp_path, dialect, ups[dialect], NOTHING)
    config = write_config(tmp_path, any_url)
    result = run_cli("verify", "--config", str(config), "--url", "db", "--migrations", str(migrations))
    assert result.exit_code == 1, result.output
    assert "2 change gadgets: round trip FAILED" in result.stdout
    failing = [line for line in result.output.splitlines() if expected in line]
    assert failing, result.output
    assert any(f"fix {migrations / 'U2__change_gadgets.sql'}:1" in line for line in failing), failing
    assert "1 create gadgets: round trip ok" in result.stdout
    assert shadows_of(any_url) == []  # dropped although verification failed


def test_index_left_behind_names_the_statement_that_made_it(pg_url: str, tmp_path: Path) -> None:
    migrations = _project(tmp_path, "postgresql", FORGOTTEN["index"][0]["postgresql"], NOTHING)
    changes = read_changes(migrations, dialect="postgresql")
    report = verify_changes(open_engine(pg_url), changes, migrations=migrations, safety=Safety())
    assert [r.ok for r in report.results] == [True, False]
    assert report.results[1].problems == [
        f"index gadgets_name_idx: still there after the rollback (made by {migrations / 'V2__change_gadgets.sql'}:1)"
        f" — fix {migrations / 'U2__change_gadgets.sql'}:1"]


def test_sampled_rows_catch_a_rollback_that_loses_data(pg_url: str, tmp_path: Path) -> None:
    migrations = _project(tmp_path, "postgresql", "UPDATE gadgets SET name = upper(name);",
                          "DELETE FROM gadgets WHERE id = 2;")
    (migrations / "V3__fine.sql").write_text("UPDATE gadgets SET name = name || '!';\n")
    (migrations / "U3__fine.sql").write_text("UPDATE gadgets SET name = rtrim(name, '!');\n")
    engine = open_engine(pg_url)
    changes = read_changes(migrations, dialect="postgresql")
    with engine.connect() as conn:
        conn.exec_driver_sql(CREATE["postgresql"])
        conn.exec_driver_sql("INSERT INTO gadgets VALUES (1, 'bolt'), (2, 'nut'), (3, 'cog')")
        conn.commit()
    report = verify_changes(engine, changes[1:], migrations=migrations, safety=Safety(), sample_rows=10)
    first = report.results[0]
    assert first.data_checked and not first.ok
    assert first.problems == [f"rows of gadgets: 3 before the change, 2 after the rollback "
                              f"— fix {migrations / 'U2__change_gadgets.sql'}:1"]
    # with a faithful rollback the same data round-trips
    good = verify_changes(engine, changes[2:], migrations=migrations, safety=Safety(), sample_rows=10)
    assert [(r.ok, r.data_checked) for r in good.results] == [(True, True)]
    assert shadows_of(pg_url) == []


def test_sampled_rows_are_masked(any_url: str) -> None:
    engine = open_engine(any_url)
    with engine.connect() as conn:
        conn.exec_driver_sql(CREATE[engine.name])
        conn.exec_driver_sql("INSERT INTO gadgets VALUES (1, 'alice@example.com'), (2, 'bob@example.com'), "
                             "(3, NULL)")
        conn.commit()
    shadow_url = engine.create_shadow()
    try:
        shadow = open_engine(shadow_url)
        with shadow.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM gadgets").scalar() == 0  # schema only
        copy_sample(engine, shadow, 2, ["gadgets.name"])
        with shadow.connect() as conn:
            rows = conn.exec_driver_sql("SELECT id, name FROM gadgets ORDER BY id").all()
    finally:
        engine.drop_shadow(shadow_url)
    assert [r[0] for r in rows] == [1, 2]
    assert all(r[1].startswith("pii-") and "example" not in r[1] for r in rows)
    assert shadows_of(any_url) == []
