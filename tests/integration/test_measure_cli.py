"""lint --url, plan and verify: each runs the pending changes on a shadow and reports what was measured."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.helpers import run_cli
from tests.integration.measure_support import load, shadows_left


@pytest.fixture(params=["postgresql", "mysql"])
def any_server(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue("pg_url" if request.param == "postgresql" else "mysql_url"))


def folder(tmp_path: Path, up: str, down: str) -> Path:
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "V1__change.sql").write_text(up)
    (migrations / "U1__change.sql").write_text(down)
    return migrations


def test_lint_and_plan_name_the_view_a_drop_breaks(pg_url: str, tmp_path: Path) -> None:
    load(pg_url, "CREATE TABLE customers (id bigint PRIMARY KEY, name text);\n"
                 "CREATE VIEW customer_names AS SELECT id, name FROM customers;")
    migrations = folder(tmp_path, "ALTER TABLE customers DROP COLUMN name;\n",
                        "ALTER TABLE customers ADD COLUMN name text;\n")
    lint = run_cli("lint", "--url", pg_url, "--format", "json", str(migrations))
    [finding] = [f for f in json.loads(lint.stdout) if f["rule"] == "DP081"]
    assert finding["severity"] == "error" and "view customer_names" in finding["message"]
    assert lint.exit_code == 1
    plan = run_cli("plan", "--url", pg_url, "--migrations", str(migrations), "--format", "json")
    assert plan.exit_code == 0, plan.output
    data = json.loads(plan.stdout)
    assert data["measured"] is True
    assert any(f["rule"] == "DP081" and "customer_names" in f["message"] for f in data["findings"])


def test_verify_reports_the_measured_rewrite(pg_url: str, tmp_path: Path) -> None:
    load(pg_url, "CREATE TABLE t (id int PRIMARY KEY, n int);\n"
                 "INSERT INTO t SELECT g, g FROM generate_series(1, 10) g;")
    migrations = folder(tmp_path, "ALTER TABLE t ALTER COLUMN n TYPE bigint;\n",
                        "ALTER TABLE t ALTER COLUMN n TYPE int;\n")
    result = run_cli("verify", "--url", pg_url, "--migrations", str(migrations), "--format", "json")
    assert result.exit_code == 0, result.output
    [finding] = [f for f in json.loads(result.stdout)["findings"] if f["rule"] == "DP080"]
    assert "table rewritten" in finding["message"] and finding["file"].endswith("V1__change.sql")
    quiet = run_cli("verify", "--url", pg_url, "--migrations", str(migrations), "--format", "json", "--no-measure")
    assert not [f for f in json.loads(quiet.stdout)["findings"] if f["rule"] == "DP080"]
    assert shadows_left(pg_url) == []


def test_without_the_privilege_for_a_shadow_lint_says_so_and_still_names_dependents(pg_url: str,
                                                                                     tmp_path: Path) -> None:
    from sqlalchemy.engine import make_url

    from tests.integration.test_verify_privileges import as_user, limited_user

    load(pg_url, "CREATE TABLE customers (id bigint PRIMARY KEY, name text);\n"
                 "CREATE VIEW customer_names AS SELECT id, name FROM customers;")
    migrations = folder(tmp_path, "ALTER TABLE customers DROP COLUMN name;\n",
                        "ALTER TABLE customers ADD COLUMN name text;\n")
    with limited_user("postgresql", make_url(pg_url).database or "") as user:
        result = run_cli("lint", "--url", as_user(pg_url, user), "--format", "json", str(migrations))
    assert "not measured on a shadow" in result.stderr and "create databases" in result.stderr
    [finding] = [f for f in json.loads(result.stdout) if f["rule"] == "DP081"]  # read from the target's catalog
    assert "view customer_names" in finding["message"]
    assert not [f for f in json.loads(result.stdout) if f["rule"] == "DP080"]


def test_lint_url_measures_only_what_the_target_has_not_applied(pg_url: str, tmp_path: Path) -> None:
    load(pg_url, "CREATE TABLE t (id int PRIMARY KEY, n int);\n"
                 "INSERT INTO t SELECT g, g FROM generate_series(1, 10) g;")
    # rewrites (DP080 on a shadow): the probe of which changes were measured
    migrations = folder(tmp_path, "ALTER TABLE t ALTER COLUMN n TYPE bigint;\n",
                        "ALTER TABLE t ALTER COLUMN n TYPE int;\n")
    (migrations / "V2__more.sql").write_text("ALTER TABLE t ALTER COLUMN id TYPE bigint;\n")
    (migrations / "U2__more.sql").write_text("ALTER TABLE t ALTER COLUMN id TYPE int;\n")
    assert run_cli("apply", "--url", pg_url, "--migrations", str(migrations), "--to", "1").exit_code == 0
    result = run_cli("lint", "--url", pg_url, "--format", "json", str(migrations))
    measured = {Path(f["file"]).name for f in json.loads(result.stdout) if f["rule"] == "DP080"}
    assert measured == {"V2__more.sql"}  # V1 is in the target already: not run again on the shadow


def test_statements_that_reach_past_the_shadow_are_not_run(mysql_url: str, pg_url: str, tmp_path: Path) -> None:
    from sqlalchemy.engine import make_url

    from dualpath.engines import open_engine
    from tests.integration.measure_support import measure

    load(mysql_url, "CREATE TABLE t (id int PRIMARY KEY);")
    database = make_url(mysql_url).database
    measurement, _ = measure(mysql_url, "", {
        "qualified": f"ALTER TABLE {database}.t ADD COLUMN leak int",
        "use": f"USE {database};\nALTER TABLE t ADD COLUMN leak2 int",
    })
    for where in ("qualified.sql:1", "use.sql:1"):
        observed = measurement.observed(where)
        assert observed is not None and observed.refusal == "beyond", observed
    assert measurement.observed("use.sql:2") is None  # the rest of that change is not run either
    engine = open_engine(mysql_url)
    with engine.connect() as conn:
        columns = [r[0] for r in conn.exec_driver_sql("SHOW COLUMNS FROM t")]
    assert columns == ["id"]  # the target was never touched

    role = f"dp_leak_{make_url(pg_url).database[-6:]}"
    measurement, _ = measure(pg_url, "", {"role": f"CREATE ROLE {role}"})
    assert measurement.observed("role.sql:1").refusal == "beyond"  # type: ignore[union-attr]
    with open_engine(pg_url).connect() as conn:
        assert conn.exec_driver_sql(f"SELECT 1 FROM pg_roles WHERE rolname = '{role}'").first() is None


def test_without_innodb_ids_mariadb_says_so_and_keeps_the_static_rules(mysql_url: str, tmp_path: Path) -> None:
    import secrets

    from sqlalchemy.engine import make_url

    from dualpath.engines import open_engine
    from dualpath.engines.probes import shadow_prefix
    from tests.integration.test_verify_privileges import as_user

    load(mysql_url, "CREATE TABLE t (id int PRIMARY KEY, n int);")
    database = make_url(mysql_url).database or ""
    user = f"dp_noproc_{secrets.token_hex(3)}"
    shadows = shadow_prefix(database).replace("_", "\\_") + "%"
    admin = open_engine(mysql_url)
    with admin.connect() as conn:  # may make its shadows, may not read InnoDB's ids (no PROCESS)
        conn.exec_driver_sql(f"CREATE USER '{user}'@'%%'")
        conn.exec_driver_sql(f"GRANT ALL PRIVILEGES ON `{database}`.* TO '{user}'@'%%'")
        conn.exec_driver_sql(f"GRANT ALL PRIVILEGES ON `{shadows.replace('%', '%%')}`.* TO '{user}'@'%%'")
        conn.commit()
    try:
        sql = tmp_path / "a.sql"
        sql.write_text("ALTER TABLE t MODIFY n bigint;\n")
        result = run_cli("lint", "--url", as_user(mysql_url, user), "--format", "json", str(sql))
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP USER IF EXISTS '{user}'@'%%'")
            conn.commit()
    assert "PROCESS" in result.stderr, result.stderr
    found = {f["rule"] for f in json.loads(result.stdout)}
    assert "DP051" in found and "DP080" not in found  # the static guess stands, nothing was settled
    assert shadows_left(mysql_url) == []


def test_files_linted_on_their_own_are_each_measured_against_the_target(any_server: str, tmp_path: Path) -> None:
    from dualpath.risk.lint import lint_paths

    load(any_server, "CREATE TABLE t (id int PRIMARY KEY, n int);")
    statement = ("ALTER TABLE t ALTER COLUMN n TYPE bigint;\n" if any_server.startswith("postgresql")
                 else "ALTER TABLE t MODIFY n bigint;\n")
    first, second = tmp_path / "a.sql", tmp_path / "b.sql"
    first.write_text(statement)
    second.write_text(statement)  # after a.sql, n would be bigint already: no rewrite
    found = lint_paths([first, second], dialect="postgresql" if "postgresql" in any_server else "mysql",
                       url=any_server)
    assert sorted(Path(f.file).name for f in found if f.rule == "DP080") == ["a.sql", "b.sql"]
    assert shadows_left(any_server) == []


def test_measuring_lint_and_plan_import_no_prefect_or_great_expectations(pg_url: str, tmp_path: Path) -> None:
    import subprocess
    import sys

    load(pg_url, "CREATE TABLE t (id int PRIMARY KEY, n int);")
    migrations = folder(tmp_path, "ALTER TABLE t ALTER COLUMN n TYPE bigint;\n",
                        "ALTER TABLE t ALTER COLUMN n TYPE int;\n")
    code = ("import sys; from dualpath.cli import app\n"
            "try:\n    app(sys.argv[1:])\nexcept SystemExit as done:\n"
            "    print(done.code, sorted({m.split('.')[0] for m in sys.modules} & {'prefect', 'great_expectations'}))")
    for args in (["lint", "--url", pg_url, str(migrations)],
                 ["plan", "--url", pg_url, "--migrations", str(migrations)]):
        done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
        assert done.stdout.strip().splitlines()[-1].endswith(" []"), done.stdout + done.stderr
        assert "DP080" in done.stdout, done.stdout + done.stderr


def test_plan_steps_carry_the_measured_lock_and_rewrite(pg_url: str, tmp_path: Path) -> None:
    load(pg_url, "CREATE TABLE t (id int PRIMARY KEY, n int, v varchar(20));")
    migrations = folder(tmp_path, "ALTER TABLE t ALTER COLUMN n TYPE bigint;\n"
                                  "ALTER TABLE t ALTER COLUMN v TYPE text;\n",
                        "ALTER TABLE t ALTER COLUMN n TYPE int;\nALTER TABLE t ALTER COLUMN v TYPE varchar(20);\n")
    result = run_cli("plan", "--url", pg_url, "--migrations", str(migrations), "--format", "json")
    assert result.exit_code == 0, result.output
    steps = {s["where"].rsplit(":", 1)[1]: s for s in json.loads(result.stdout)["steps"]}
    assert (steps["1"]["measured_lock"], steps["1"]["measured_rewrite"]) == ("ACCESS EXCLUSIVE on t", True)
    assert (steps["2"]["measured_lock"], steps["2"]["measured_rewrite"]) == ("ACCESS EXCLUSIVE on t", False)
    assert "| **Statements measured** | yes, on a shadow of the target |" in run_cli(
        "plan", "--url", pg_url, "--migrations", str(migrations)).stdout
    assert "| **Statements measured** | no |" in run_cli(
        "plan", "--url", pg_url, "--migrations", str(migrations), "--no-measure").stdout
