"""Liquibase formatted SQL preconditions, honoured as Liquibase 4.28 honours them (issue 14).

Checked against `liquibase update` on PostgreSQL: MARK_RAN records the changeset without running it,
CONTINUE skips it unrecorded (judged again next run), WARN runs it anyway, HALT (the default) stops the
run at the check's line; a marked-ran changeset's rollback still runs on rollback, as Liquibase's does.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from tests.integration.helpers import run_cli, status_json, write_config

CHANGELOG = """\
--liquibase formatted sql

--changeset me:1
CREATE TABLE marker (id int);
--rollback DROP TABLE marker;

--changeset me:2
--preconditions onFail:MARK_RAN
--precondition-sql-check expectedResult:1 SELECT count(*) FROM marker
CREATE TABLE two (id int);
--rollback INSERT INTO marker VALUES (2);

--changeset me:3
--preconditions onFail:CONTINUE
--precondition-table-exists table:nope
CREATE TABLE three (id int);
--rollback DROP TABLE three;

--changeset me:4
--preconditions onFail:WARN
--precondition-sql-check expectedResult:5 SELECT 4
CREATE TABLE four (id int);
--rollback DROP TABLE four;

--changeset me:5
--preconditions onFail:HALT onError:MARK_RAN
--precondition-view-exists view:missing_view
--precondition-sql-check expectedResult:0 SELECT count(*) FROM no_such_table
CREATE TABLE five (id int);
--rollback DROP TABLE five;
"""


def _tables(url: str) -> list[str]:
    with sa.create_engine(url).connect() as conn:
        return sorted(conn.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                                           "AND tablename NOT LIKE 'dualpath%'")).scalars())


def _setup(tmp_path: Path, url: str, text: str) -> tuple[Path, Path]:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "changelog.sql").write_text(text)
    return folder, write_config(tmp_path, url)


def test_each_onfail_setting_does_what_liquibase_does(pg_url: str, tmp_path: Path) -> None:
    folder, config = _setup(tmp_path, pg_url, CHANGELOG)
    args = ("--config", str(config), "--url", "db", "--migrations", str(folder))
    applied = run_cli("apply", *args)
    assert applied.exit_code == 4, applied.output
    assert "changelog.sql:27" in applied.output and "view missing_view does not exist" in applied.output
    assert "onFail:WARN" in applied.output and "onFail:MARK_RAN" in applied.output
    assert _tables(pg_url) == ["four", "marker"]  # 2 marked ran, 3 skipped, 4 warned and ran, 5 halted
    states = {row["version"]: row["state"] for row in status_json(config, folder)}
    assert states == {"1.1": "applied", "1.2": "applied", "1.3": "pending", "1.4": "applied", "1.5": "pending"}
    rolled = run_cli("rollback", *args, "--to", "1.1")
    assert rolled.exit_code == 0, rolled.output
    with sa.create_engine(pg_url).connect() as conn:  # the marked-ran changeset's rollback ran
        assert list(conn.execute(sa.text("SELECT id FROM marker")).scalars()) == [2]


def test_a_check_that_errs_follows_onerror(pg_url: str, tmp_path: Path) -> None:
    folder, config = _setup(tmp_path, pg_url, "--liquibase formatted sql\n\n--changeset me:1\n"
                            "--preconditions onFail:HALT onError:MARK_RAN\n"
                            "--precondition-sql-check expectedResult:0 SELECT count(*) FROM no_such_table\n"
                            "CREATE TABLE one (id int);\n--rollback DROP TABLE one;\n")
    applied = run_cli("apply", "--config", str(config), "--url", "db", "--migrations", str(folder))
    assert applied.exit_code == 0, applied.output
    assert "could not be checked" in applied.output and _tables(pg_url) == []


def test_an_unknown_precondition_type_is_refused_with_file_and_line(pg_url: str, tmp_path: Path) -> None:
    folder, config = _setup(tmp_path, pg_url, "--liquibase formatted sql\n\n--changeset me:1\n"
                            "--precondition-column-exists table:t column:c\nCREATE TABLE one (id int);\n"
                            "--rollback DROP TABLE one;\n")
    result = run_cli("status", "--config", str(config), "--url", "db", "--migrations", str(folder))
    assert result.exit_code == 2 and "changelog.sql:4" in result.output and "column-exists" in result.output
