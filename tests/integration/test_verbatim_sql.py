"""Migration SQL runs as written on every path: a `%`, `:name`, `?` or `$1` in it is text, never a placeholder.

apply, rollback, verify (whose first up is the lock rehearsal), plan (EXPLAIN of filtered DML) and
plan --rehearse all send the statement verbatim; what the server stores is byte for byte the file's text.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dualpath.engines import open_engine
from dualpath.rehearse import rehearse_up
from dualpath.risk.catalogue import catalogue_for
from dualpath.sources import read_changes
from tests.integration.helpers import dialect_of, run_cli, write_config

pytestmark = pytest.mark.integration

MARK = "a%s %(x)s %% %D :name ? $1 LIKE 'b%'"  # every placeholder style some driver knows
LITERAL = "'" + MARK.replace("'", "''") + "'"
BODY = {  # the stored routine (view on SQLite) body, as in the file
    "postgresql": f" BEGIN RETURN format('x %s', t) || {LITERAL}; END; ",
    "mysql": f"RETURN CONCAT('x %s ', t, {LITERAL})",
    "sqlite": f"CREATE VIEW pct_v AS SELECT {LITERAL} AS s",
}
UP = {
    "postgresql": [f"CREATE TABLE pct (id int PRIMARY KEY, s text DEFAULT {LITERAL})",
                   f"CREATE FUNCTION pct_f(t text) RETURNS text AS $${BODY['postgresql']}$$ LANGUAGE plpgsql",
                   "UPDATE pct SET s = s WHERE s LIKE 'a%D' OR s = '%(x)s'"],
    "mysql": [f"CREATE TABLE pct (id INT PRIMARY KEY, s VARCHAR(100) DEFAULT {LITERAL})",
              f"CREATE FUNCTION pct_f(t VARCHAR(50)) RETURNS VARCHAR(200) DETERMINISTIC {BODY['mysql']}",
              "UPDATE pct SET s = s WHERE s LIKE 'a%D' OR s = '%(x)s'",
              f"ALTER TABLE pct ADD COLUMN u VARCHAR(100) DEFAULT {LITERAL}"],
    "sqlite": [f"CREATE TABLE pct (id INTEGER PRIMARY KEY, s TEXT DEFAULT {LITERAL})",
               BODY["sqlite"],
               "UPDATE pct SET s = s WHERE s LIKE 'a%D' OR s = '%(x)s'"],
}
DOWN = {
    "postgresql": ["DROP FUNCTION pct_f(text)", "DROP TABLE pct"],
    "mysql": ["DROP FUNCTION pct_f", "DROP TABLE pct"],
    "sqlite": ["DROP VIEW pct_v", "DROP TABLE pct"],
}


def _project(tmp_path: Path, dialect: str) -> Path:
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    (migrations / "V1__pct.sql").write_text("".join(f"{s};\n" for s in UP[dialect]))
    (migrations / "U1__pct.sql").write_text("".join(f"{s};\n" for s in DOWN[dialect]))
    if dialect == "postgresql":  # a no-transaction statement: the rehearsal watches it from another session
        (migrations / "V2__pct_index.sql").write_text(
            "CREATE INDEX CONCURRENTLY pct_like ON pct (s) WHERE s LIKE 'a%D' OR s <> '%(x)s';\n")
        (migrations / "U2__pct_index.sql").write_text("DROP INDEX CONCURRENTLY pct_like;\n")
    return migrations


def _stored(url: str) -> dict[str, str]:
    """What the server keeps of the defaults and the body, read from its catalog."""
    engine = open_engine(url)
    with engine.connect() as conn:
        if engine.name == "postgresql":
            found = {"default": conn.exec_driver_sql(
                "SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attrdef d JOIN pg_attribute a "
                "ON a.attrelid = d.adrelid AND a.attnum = d.adnum WHERE d.adrelid = 'pct'::regclass").scalar(),
                "body": conn.exec_driver_sql("SELECT prosrc FROM pg_proc WHERE proname = 'pct_f'").scalar()}
            index = conn.exec_driver_sql("SELECT pg_get_expr(indpred, indrelid) FROM pg_index "
                                         "WHERE indexrelid = to_regclass('pct_like')").scalar()
            if index is not None:
                found["index"] = index
            return found
        if engine.name == "mysql":
            defaults = dict(conn.exec_driver_sql(
                "SELECT COLUMN_NAME, COLUMN_DEFAULT FROM information_schema.COLUMNS "
                "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'pct' AND COLUMN_NAME IN ('s', 'u')").all())
            return {"default": defaults["s"], "default u": defaults["u"], "body": conn.exec_driver_sql(
                "SELECT ROUTINE_DEFINITION FROM information_schema.ROUTINES "
                "WHERE ROUTINE_SCHEMA = DATABASE() AND ROUTINE_NAME = 'pct_f'").scalar()}
        return {"default": next(r[4] for r in conn.exec_driver_sql("PRAGMA table_info(pct)") if r[1] == "s"),
                "body": conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'pct_v'").scalar()}


def _expected(dialect: str) -> dict[str, str]:
    default = f"{LITERAL}::text" if dialect == "postgresql" else LITERAL
    expected = {"default": default, "body": BODY[dialect]}
    if dialect == "mysql":
        expected["default u"] = LITERAL
    if dialect == "postgresql":
        expected["index"] = "((s ~~ 'a%D'::text) OR (s <> '%(x)s'::text))"
    return expected


def test_statements_with_percent_and_placeholders_run_verbatim_everywhere(any_url: str, tmp_path: Path) -> None:
    dialect = dialect_of(any_url)
    migrations = _project(tmp_path, dialect)
    config = write_config(tmp_path, any_url)
    args = ("--config", str(config), "--url", "db", "--migrations", str(migrations))

    planned = run_cli("plan", *args, "--format", "json")  # EXPLAIN of the filtered UPDATE
    assert planned.exit_code == 0, planned.output
    rehearsed = run_cli("plan", *args, "--format", "json", "--rehearse")
    assert rehearsed.exit_code == 0, rehearsed.output
    assert "warning: rehearsal" not in rehearsed.output
    verified = run_cli("verify", *args)
    assert verified.exit_code == 0, verified.output
    assert "FAIL" not in verified.output and "differs" not in verified.output

    assert run_cli("apply", *args).exit_code == 0
    assert _stored(any_url) == _expected(dialect)
    rolled = run_cli("rollback", *args, "--steps", "5")
    assert rolled.exit_code == 0, rolled.output
    assert run_cli("apply", *args).exit_code == 0
    assert _stored(any_url) == _expected(dialect)


def test_the_rehearsal_stores_the_file_text(any_url: str, tmp_path: Path) -> None:
    """verify's first up (the lock rehearsal) leaves the same bytes as apply."""
    dialect = dialect_of(any_url)
    changes = read_changes(_project(tmp_path, dialect), dialect=dialect)
    engine = open_engine(any_url)
    with engine.connect() as conn:
        catalogue = catalogue_for(engine.flavor, engine.server_version(conn))
        conn.commit()
        for change in changes:
            in_tx = engine.transactional_ddl and not change.no_transaction
            rehearse_up(engine, conn, change, catalogue, in_tx)
            if conn.in_transaction():
                conn.commit()
    assert _stored(any_url) == _expected(dialect)
