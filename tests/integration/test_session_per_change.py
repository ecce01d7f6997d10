"""Each change starts from the session the run opened (a public sqitch folder, Tamarou/Registry, showed it).

psql, mariadb and sqitch run each file in a new session, so a ``SET search_path`` (or ``SET ROLE``,
``SET foreign_key_checks = 0``) in one change never reaches the next. dualpath runs a
whole folder on one connection: without a reset, the next change's objects land in another schema,
and applying in two runs gave another schema than applying in one.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from dualpath.engines import open_engine
from tests.integration.helpers import run_cli, write_config

pytestmark = pytest.mark.integration


def _write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in files.items():
        (folder / name).write_text(body)
    return folder


def _tables(url: str, sql: str) -> set[tuple[str, str]]:
    engine = open_engine(url)
    with engine.connect() as conn:
        return {(str(a), str(b)) for a, b in conn.execute(text(sql))}


def test_search_path_set_by_one_change_does_not_reach_the_next(pg_url: str, tmp_path: Path) -> None:
    folder = _write(tmp_path / "migrations", {
        "V1__a.sql": "CREATE SCHEMA app;\nSET search_path TO app, public;\nCREATE TABLE t1 (id int);\n",
        "V2__b.sql": "CREATE TABLE t2 (id int);\n",
        "U1__a.sql": "DROP TABLE app.t1;\nDROP SCHEMA app;\n",
        "U2__b.sql": "DROP TABLE t2;\n",
    })
    config = write_config(tmp_path, pg_url)
    applied = run_cli("apply", "--config", str(config), "--url", "db", "--migrations", str(folder))
    assert applied.exit_code == 0, applied.output
    found = _tables(pg_url, "SELECT schemaname, tablename FROM pg_tables WHERE tablename IN ('t1', 't2')")
    assert found == {("app", "t1"), ("public", "t2")}  # as psql -f per file (and Flyway) leave them


def test_set_role_in_one_change_does_not_reach_the_next(pg_url: str, tmp_path: Path) -> None:
    role = "dp_session_" + pg_url.rsplit("_", 1)[1]
    folder = _write(tmp_path / "migrations", {
        "V1__a.sql": f"CREATE ROLE {role};\nGRANT CREATE ON SCHEMA public TO {role};\nSET ROLE {role};\n"
                     "CREATE TABLE t1 (id int);\n",
        "V2__b.sql": "CREATE TABLE t2 (id int);\n",
    })
    config = write_config(tmp_path, pg_url)
    try:
        applied = run_cli("apply", "--config", str(config), "--url", "db", "--migrations", str(folder))
        assert applied.exit_code == 0, applied.output
        owners = _tables(pg_url, "SELECT tablename, tableowner FROM pg_tables WHERE tablename IN ('t1', 't2')")
        assert owners == {("t1", role), ("t2", "postgres")}
    finally:
        engine = open_engine(pg_url)
        with engine.connect() as conn:
            conn.execute(text("DROP TABLE IF EXISTS t1"))
            conn.execute(text(f"DROP OWNED BY {role}"))
            conn.execute(text(f"DROP ROLE IF EXISTS {role}"))
            conn.commit()


def test_foreign_key_checks_off_in_one_change_do_not_reach_the_next(mysql_url: str, tmp_path: Path) -> None:
    database = mysql_url.rsplit("/", 1)[1]
    child = "child_" + database.rsplit("_", 1)[1]  # unique on the shared server
    folder = _write(tmp_path / "migrations", {
        "V1__a.sql": "CREATE TABLE parent (id INT PRIMARY KEY);\nSET foreign_key_checks = 0;\n",
        "V2__b.sql": f"CREATE TABLE {child} (id INT PRIMARY KEY, parent_id INT, "
                     "FOREIGN KEY (parent_id) REFERENCES parent (id));\n"
                     f"INSERT INTO {child} VALUES (1, 42);\n",
    })
    config = write_config(tmp_path, mysql_url)
    try:
        applied = run_cli("apply", "--config", str(config), "--url", "db", "--migrations", str(folder))
        # as `mariadb db < V2__b.sql` in a new session: the orphan row is refused, foreign_key_checks is on again
        assert applied.exit_code == 4, applied.output
        assert "foreign key constraint fails" in applied.output
        schemas = _tables(mysql_url, "SELECT table_schema, table_name FROM information_schema.tables "
                                     f"WHERE table_name = '{child}'")
        assert schemas == {(database, child)}
    finally:
        engine = open_engine(mysql_url)
        with engine.connect() as conn:
            conn.execute(text(f"DROP TABLE IF EXISTS mysql.{child}"))


def test_a_fingerprint_does_not_depend_on_the_sessions_search_path(pg_url: str) -> None:
    """PostgreSQL prints a foreign key's target, a column's type or a view's query without the schema
    when the schema is on the search_path: Tamarou/Registry's changes SET search_path TO registry, and
    verify compared a fingerprint taken under it with one taken after, reporting 40 false differences."""
    engine = open_engine(pg_url)
    with engine.connect() as conn:
        for sql in ("CREATE SCHEMA app", "CREATE TYPE app.mood AS ENUM ('ok')",
                    "CREATE TABLE app.users (id integer PRIMARY KEY, mood app.mood)",
                    "CREATE TABLE app.posts (id integer PRIMARY KEY, user_id integer REFERENCES app.users (id))",
                    "CREATE VIEW app.moods AS SELECT mood FROM app.users"):
            conn.execute(text(sql))
        conn.commit()
        plain = engine.fingerprint(conn)
        conn.execute(text("SET search_path TO app, public"))
        inside = engine.fingerprint(conn)
        assert conn.execute(text("SHOW search_path")).scalar() == "app, public"  # left as the change set it
        conn.rollback()
    assert inside == plain, inside.diff(plain)


def test_verify_round_trips_changes_that_set_search_path(pg_url: str, tmp_path: Path) -> None:
    """Tamarou/Registry's shape (sqitch): every script begins with SET search_path TO registry, public.
    Verify judged 40 of its round trips as failing on differences that were only the path's."""
    folder = _write(tmp_path / "migrations", {
        "V1__schema.sql": "CREATE SCHEMA app;\n",
        "U1__schema.sql": "DROP SCHEMA app;\n",
        "V2__users.sql": "SET search_path TO app, public;\nCREATE TYPE mood AS ENUM ('ok');\n"
                         "CREATE TABLE users (id integer PRIMARY KEY, mood mood);\n"
                         "CREATE TABLE posts (id integer PRIMARY KEY, user_id integer REFERENCES users (id));\n",
        "U2__users.sql": "SET search_path TO app, public;\nDROP TABLE posts;\nDROP TABLE users;\nDROP TYPE mood;\n",
        "V3__view.sql": "CREATE VIEW app.moods AS SELECT mood FROM app.users;\n",
        "U3__view.sql": "DROP VIEW app.moods;\n",
    })
    config = write_config(tmp_path, pg_url)
    verified = run_cli("verify", "--config", str(config), "--url", "db", "--migrations", str(folder))
    assert verified.exit_code == 0, verified.output
    assert verified.output.count("round trip ok") == 3
