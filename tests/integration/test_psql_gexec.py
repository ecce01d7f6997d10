"""psql's \\gexec in sqitch pg scripts, run on a real PostgreSQL as psql runs it (issue 14, maevsi/sqitch).

``SELECT ... \\gexec`` runs the query, then each value of its result as a statement, row by row and
column by column, NULLs skipped, verbatim, inside the change's transaction; a query that generates
``CREATE DATABASE`` runs outside one, as psql runs it.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from dualpath.engines import open_engine
from tests.integration.dbs import database_name
from tests.integration.helpers import run_cli, write_config
from tests.unit.test_sources import write

PLAN = "%project=p\n\n{}\n"
CHANGE = "{0} 2024-01-01T00:00:00Z Me <me@x.org> # {0}"


def _project(folder: Path, changes: dict[str, tuple[str, str]]) -> Path:
    files = {"sqitch.conf": "[core]\n\tengine = pg\n",
             "sqitch.plan": PLAN.format("\n".join(CHANGE.format(name) for name in changes))}
    for name, (deploy, revert) in changes.items():
        files[f"deploy/{name}.sql"] = deploy
        files[f"revert/{name}.sql"] = revert
    write(folder, files)
    return folder


def _tables(url: str) -> list[str]:
    with sa.create_engine(url).connect() as conn:
        return list(conn.execute(sa.text("SELECT table_name FROM information_schema.tables "
                                         "WHERE table_schema = 'public' AND table_name NOT LIKE 'dualpath%' "
                                         "ORDER BY table_name")).scalars())


# every cell of every row, in order, NULL skipped; a '%' and ':x' in a value reach the server as written
TABLES = """\
BEGIN;
CREATE TABLE log (n serial PRIMARY KEY, s text);
SELECT format('CREATE TABLE %I (x int)', 't_' || n),
       CASE WHEN n = 2 THEN NULL ELSE format('INSERT INTO log (s) VALUES (%L)', n || '%:x') END
FROM generate_series(1, 3) AS n
ORDER BY n\\gexec
COMMIT;
"""


def test_gexec_runs_each_value_in_order_inside_the_change(pg_url: str, tmp_path: Path) -> None:
    folder = _project(tmp_path / "migrations", {
        "tables": (TABLES, "DROP TABLE t_1, t_2, t_3, log;\n")})
    config = write_config(tmp_path, pg_url)
    args = ("--config", str(config), "--url", "db", "--migrations", str(folder))
    applied = run_cli("apply", *args)
    assert applied.exit_code == 0, applied.output
    assert _tables(pg_url) == ["log", "t_1", "t_2", "t_3"]
    with sa.create_engine(pg_url).connect() as conn:
        assert list(conn.execute(sa.text("SELECT s FROM log ORDER BY n")).scalars()) == ["1%:x", "3%:x"]
    rolled = run_cli("rollback", *args, "--all")
    assert rolled.exit_code == 0, rolled.output
    verified = run_cli("verify", *args)
    assert verified.exit_code == 0, verified.output


def test_a_failing_generated_statement_rolls_the_whole_change_back(pg_url: str, tmp_path: Path) -> None:
    folder = _project(tmp_path / "migrations", {"bad": (
        "CREATE TABLE kept_only_if_all_ran (x int);\n"
        "SELECT 'CREATE TABLE g1 (x int)', 'CREATE TABLE g1 (x int)'\\gexec\n",
        "DROP TABLE g1, kept_only_if_all_ran;\n")})
    config = write_config(tmp_path, pg_url)
    applied = run_cli("apply", "--config", str(config), "--url", "db", "--migrations", str(folder))
    assert applied.exit_code != 0
    assert "deploy/bad.sql:2" in applied.output and "already exists" in applied.output
    assert _tables(pg_url) == []


def test_gexec_generating_create_database_runs_outside_a_transaction(pg_url: str, tmp_path: Path) -> None:
    """maevsi/sqitch's deploy/database_grafana.sql, with the owner read from a file by \\set."""
    name = database_name("gexec_db")
    (tmp_path / "migrations").mkdir()
    (tmp_path / "migrations" / "owner").write_text("postgres\n")
    folder = _project(tmp_path / "migrations", {"database": (
        "\\set owner `cat owner`\n\n"
        f"SELECT 'CREATE DATABASE {name} OWNER \"' || :'owner' || '\";'\n"
        f"WHERE NOT EXISTS (\n  SELECT FROM pg_database WHERE datname = '{name}'\n)\\gexec\n\n"
        f"COMMENT ON DATABASE {name} IS 'made by \\gexec';\n",
        f"DROP DATABASE {name};\n")})
    config = write_config(tmp_path, pg_url)
    args = ("--config", str(config), "--url", "db", "--migrations", str(folder))
    server = open_engine("postgresql://postgres@127.0.0.1:5432/postgres")
    try:
        applied = run_cli("apply", *args)
        assert applied.exit_code == 0, applied.output
        with sa.create_engine(pg_url).connect() as conn:
            owner = conn.execute(sa.text("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = :n"),
                                 {"n": name}).scalar()
        assert owner == "postgres"
        rolled = run_cli("rollback", *args, "--all")
        assert rolled.exit_code == 0, rolled.output
        with sa.create_engine(pg_url).connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM pg_database WHERE datname = :n"),
                                {"n": name}).scalar() == 0
        verified = run_cli("verify", *args)  # the shadow's round trip runs it outside a transaction too
        assert verified.exit_code == 0, verified.output
        with sa.create_engine(pg_url).connect() as conn:  # and the server is left as verify found it
            assert conn.execute(sa.text("SELECT count(*) FROM pg_database WHERE datname = :n"),
                                {"n": name}).scalar() == 0
        assert f"dropped database {name}" in verified.output
    finally:
        server.drop_database(name)
