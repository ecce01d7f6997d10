"""`dualpath verify` judges every change in one run, leaves the server as it found it, and says what a
change without a rollback leaves behind."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from dualpath.config import Safety
from dualpath.engines import open_engine
from dualpath.engines.verbatim import run_verbatim
from dualpath.sources import read_changes
from dualpath.verify import verify_changes
from tests.integration.helpers import dialect_of, run_cli, write_config
from tests.integration.test_verify import shadows_of

pytestmark = pytest.mark.integration

INT = {"postgresql": "integer", "mysql": "INT", "sqlite": "INTEGER"}


def _write(migrations: Path, version: int, name: str, up: str, down: str) -> None:
    migrations.mkdir(parents=True, exist_ok=True)
    (migrations / f"V{version}__{name}.sql").write_text(up + "\n")
    (migrations / f"U{version}__{name}.sql").write_text(down + "\n")


def _verify(tmp_path: Path, url: str, migrations: Path, *extra: str) -> tuple[int, str, str]:
    config = write_config(tmp_path, url)
    result = run_cli("verify", "--config", str(config), "--url", "db", "--migrations", str(migrations), *extra)
    return result.exit_code, result.stdout, result.output


def test_dml_after_ddl_in_one_change_verifies(any_url: str, tmp_path: Path) -> None:
    """MariaDB: the DDL commits on its own; the INSERT after it must not find a transaction left open."""
    migrations = tmp_path / "migrations"
    _write(migrations, 1, "seeded", f"CREATE TABLE seeded (id {INT[dialect_of(any_url)]} PRIMARY KEY);\n"
                                     "INSERT INTO seeded VALUES (1);", "DROP TABLE seeded;")
    code, _, output = _verify(tmp_path, any_url, migrations)
    assert code == 0, output
    assert "1 seeded: round trip ok" in output


def _five_changes(migrations: Path, dialect: str) -> None:
    """Changes 2 and 4 have broken rollbacks (one forgets, one fails); 3 and 5 build on them."""
    _write(migrations, 1, "a", f"CREATE TABLE a (id {INT[dialect]} PRIMARY KEY);", "DROP TABLE a;")
    # its rollback drops a2 but forgets a.c: up again trips over a.c, so the shadow is made again
    _write(migrations, 2, "a_c", f"ALTER TABLE a ADD COLUMN c VARCHAR(10);\nCREATE TABLE a2 (id {INT[dialect]});",
           "DROP TABLE a2;")
    _write(migrations, 3, "b", f"CREATE TABLE b (id {INT[dialect]} PRIMARY KEY);", "DROP TABLE b;")
    _write(migrations, 4, "b_d", "ALTER TABLE b ADD COLUMN d VARCHAR(10);", "DROP TABLE no_such_table;")
    _write(migrations, 5, "a_c_idx", "CREATE INDEX a_c_idx ON a (c);\nCREATE INDEX b_d_idx ON b (d);",
           "DROP INDEX a_c_idx ON a;\nDROP INDEX b_d_idx ON b;" if dialect == "mysql"
           else "DROP INDEX a_c_idx;\nDROP INDEX b_d_idx;")


def test_every_broken_rollback_is_reported_in_one_run(any_url: str, tmp_path: Path) -> None:
    migrations = tmp_path / "migrations"
    _five_changes(migrations, dialect_of(any_url))
    code, stdout, output = _verify(tmp_path, any_url, migrations, "--format", "json")
    assert code == 1, output
    report = json.loads(stdout)
    assert [(c["version"], c["ok"]) for c in report["changes"]] == [
        ("1", True), ("2", False), ("3", True), ("4", False), ("5", True)]
    assert any("a.c: still there after the rollback" in p for p in report["changes"][1]["problems"])
    assert any(str(migrations / "U4__b_d.sql") + ":1" in p for p in report["changes"][3]["problems"])
    assert report["rebuilds"] == 1  # only after 2: 4's failed rollback left the shadow as its up did
    # the summary names each failing change with its file:line and why
    assert "2 of 5 changes do not round-trip" in output
    assert f"{migrations / 'V2__a_c.sql'}:1: version 2 (a c)" in output
    assert f"{migrations / 'V4__b_d.sql'}:1: version 4 (b d)" in output
    assert "Traceback" not in output and "next:" in output
    assert shadows_of(any_url) == []


def test_fail_fast_stops_at_the_first_failure(any_url: str, tmp_path: Path) -> None:
    migrations = tmp_path / "migrations"
    _five_changes(migrations, dialect_of(any_url))
    code, stdout, output = _verify(tmp_path, any_url, migrations, "--format", "json", "--fail-fast")
    assert code == 1, output
    assert [(c["version"], c["ok"]) for c in json.loads(stdout)["changes"]] == [("1", True), ("2", False)]
    assert shadows_of(any_url) == []


def test_after_a_failing_forward_the_changes_that_follow_are_named_not_verified(any_url: str,
                                                                               tmp_path: Path) -> None:
    dialect = dialect_of(any_url)
    migrations = tmp_path / "migrations"
    _write(migrations, 1, "a", f"CREATE TABLE a (id {INT[dialect]} PRIMARY KEY);", "DROP TABLE a;")
    _write(migrations, 2, "broken", "ALTER TABLE no_such_table ADD COLUMN c INT;", "SELECT 1;")
    _write(migrations, 3, "b", f"CREATE TABLE b (id {INT[dialect]} PRIMARY KEY);", "DROP TABLE b;")
    code, stdout, output = _verify(tmp_path, any_url, migrations, "--format", "json")
    assert code == 1, output
    changes = json.loads(stdout)["changes"]
    assert [(c["version"], c["ok"]) for c in changes] == [("1", True), ("2", False), ("3", False)]
    assert changes[2]["problems"] == ["not verified: it comes after version 2, whose forward statements "
                                      "failed on the shadow"]
    assert "2 of 3 changes do not round-trip" not in output  # 3 is not a failure of its own
    assert "1 of 3 changes do not round-trip" in output and "1 change not verified" in output


# -- server-wide objects (roles, users) ------------------------------------------------------------


def _server_name(url: str, tag: str) -> str:
    return f"{tag}_{(open_engine(url).url.database or '')[-6:]}"  # unique per test database


def _roles(url: str) -> set[str]:
    engine = open_engine(url)
    with engine.connect() as conn:
        if engine.name == "postgresql":
            return set(conn.exec_driver_sql("SELECT rolname FROM pg_roles").scalars())
        return set(conn.exec_driver_sql("SELECT User FROM mysql.user").scalars())


@pytest.mark.parametrize("backend", ["postgresql", "mysql"])
def test_roles_and_users_made_by_the_round_trip_are_dropped_afterwards(backend: str, tmp_path: Path,
                                                                       request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue("pg_url" if backend == "postgresql" else "mysql_url")
    made, kept, forgotten = (_server_name(url, t) for t in ("r_made", "r_kept", "r_forgot"))
    create, drop = (("CREATE ROLE {}", "DROP ROLE {}") if backend == "postgresql"
                    else ("CREATE USER '{}'@'%'", "DROP USER '{}'@'%'"))
    engine = open_engine(url)
    with engine.connect() as conn:  # a role of the server's that no change touches
        run_verbatim(conn, create.format(kept))
        conn.commit()
    try:
        migrations = tmp_path / "migrations"
        _write(migrations, 1, "role", create.format(made) + ";", drop.format(made) + ";")
        _write(migrations, 2, "forgot", create.format(forgotten) + ";", "SELECT 1;")
        code, stdout, output = _verify(tmp_path, url, migrations, "--format", "json")
        assert code == 1, output  # 2's rollback forgets its role: a failure, and the role still goes
        assert [(c["version"], c["ok"]) for c in json.loads(stdout)["changes"]] == [("1", True), ("2", False)]
        assert made not in _roles(url) and forgotten not in _roles(url)
        assert kept in _roles(url)
        assert f"dropped {'role' if backend == 'postgresql' else 'user'}" in output
        # the real apply of change 1 now finds the server as it was
        (migrations / "V2__forgot.sql").unlink()
        (migrations / "U2__forgot.sql").unlink()
        config = write_config(tmp_path, url)
        applied = run_cli("apply", "--config", str(config), "--url", "db", "--migrations", str(migrations))
        assert applied.exit_code == 0, applied.output
    finally:
        with engine.connect() as conn:
            for name in (made, kept, forgotten):
                if name in _roles(url):
                    run_verbatim(conn, drop.format(name))
            conn.commit()


# -- changes whose rollback runs nothing ------------------------------------------------------------


def test_a_change_without_a_rollback_is_judged_by_what_it_leaves(any_url: str, tmp_path: Path) -> None:
    dialect = dialect_of(any_url)
    migrations = tmp_path / "migrations"
    _write(migrations, 1, "t", f"CREATE TABLE t (id {INT[dialect]} PRIMARY KEY);", "DROP TABLE t;")
    _write(migrations, 2, "seed", "INSERT INTO t VALUES (1);", "DELETE FROM t;")
    _write(migrations, 3, "u", f"CREATE TABLE u (id {INT[dialect]} PRIMARY KEY);", "DROP TABLE u;")
    changes = read_changes(migrations, dialect=dialect)
    no_rollback = [changes[0], dataclasses.replace(changes[1], rollback=()),
                   dataclasses.replace(changes[2], rollback=())]
    report = verify_changes(open_engine(any_url), no_rollback, migrations=migrations, safety=Safety())
    assert [(r.version, r.ok, r.no_rollback) for r in report.results] == [
        ("1", True, None), ("2", True, "harmless"), ("3", True, "not harmless")]
    assert report.ok
    not_harmless = report.results[2]
    assert not_harmless.problems == []
    assert any("table u" in line for line in not_harmless.notes)
    assert shadows_of(any_url) == []
