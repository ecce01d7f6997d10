"""Each `next:` line fits the situation that produced it (issue 13, item 10): the direction of the run,
what the server said (read-only, no privilege, a timeout in the URL) and what is missing."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

from dualpath.urls import parse_url
from tests.integration.edited_support import cli, digest, execute, project, write_change
from tests.integration.helpers import run_cli, status_json


def test_a_failed_rollback_says_roll_back_again_not_apply(any_url: str, tmp_path: Path) -> None:
    config = project(tmp_path, any_url, ("1", "2"))
    write_change(tmp_path / "migrations", "2", "gadgets", "CREATE TABLE gadgets (id INT PRIMARY KEY);\n",
                 "DROP TABLE no_such_table_here;\n")
    assert cli(config, "apply")[0] == 0
    code, output = cli(config, "rollback", "--steps", "1")
    assert code == 4, output
    assert "failed to roll back" in output and "U2__gadgets.sql" in output
    hint = output.split("next:", 1)[1]
    assert "dualpath rollback" in hint and "dualpath apply" not in hint
    assert [s["state"] for s in status_json(config)] == ["applied", "applied"]


def test_a_read_only_session_is_refused_before_anything_runs(pg_url: str, tmp_path: Path) -> None:
    read_only = pg_url + "?options=-c%20default_transaction_read_only%3Don"
    for state in ("no history yet", "history exists"):
        if state == "history exists":  # a writable run creates the history and applies the first change
            assert cli(project(tmp_path, pg_url), "apply", "--to", "1")[0] == 0
        config = project(tmp_path, read_only)
        before = digest(pg_url)
        code, output = cli(config, "apply")
        assert code == 3, f"{state}: {output}"
        assert "accepts no writes" in output and "read-only" in output and "went away" not in output, output
        assert "default_transaction_read_only" in output.split("next:", 1)[1]
        assert digest(pg_url) == before
    assert [s["state"] for s in status_json(project(tmp_path, pg_url))] == ["applied", "pending", "pending"]


def test_a_user_with_select_only_is_refused_and_named(mysql_url: str, tmp_path: Path) -> None:
    url = parse_url(mysql_url)
    user = f"dp_ro_{secrets.token_hex(3)}"
    assert cli(project(tmp_path, mysql_url, ("1",)), "apply")[0] == 0
    execute(mysql_url, f"CREATE USER '{user}'@'%' IDENTIFIED BY 'pw'",
            f"GRANT SELECT ON `{url.database}`.* TO '{user}'@'%'")
    try:
        select_only = url.set(username=user, password="pw").render_as_string(hide_password=False)
        config = project(tmp_path, select_only)
        before = digest(mysql_url)
        code, output = cli(config, "apply")
        assert code == 3, output
        assert "refuses writes by this user" in output and "went away" not in output, output
        assert "grant" in output.split("next:", 1)[1]
        assert digest(mysql_url) == before
    finally:
        execute(mysql_url, f"DROP USER '{user}'@'%'")


def test_a_statement_timeout_in_the_url_is_not_a_connection_failure(pg_url: str, tmp_path: Path) -> None:
    # Whether a 1 ms timeout cancels the first query depends on the machine's speed, so the CLI may also
    # succeed; when it fails, it must say why. The cancel itself is made certain below (pg_sleep).
    config = project(tmp_path, pg_url + "?options=-c%20statement_timeout%3D1")
    for command in ("status", "apply"):
        code, output = cli(config, command)
        if code != 0:
            assert code == 2, output
            assert "cannot connect" not in output and "statement timeout" in output, output
            assert "statement_timeout_ms" in output.split("next:", 1)[1]


def test_a_canceled_first_query_is_named_as_the_sessions_timeout(pg_url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from dualpath.engines import open_engine
    from dualpath.errors import ConnectionFailed

    url = pg_url + "?options=-c%20statement_timeout%3D1"
    engine = open_engine(url)
    try:  # the first queries of connect() may be canceled already, or pg_sleep is
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_sleep(5)"))
        raise AssertionError("a 1 ms statement timeout let pg_sleep(5) finish")
    except ConnectionFailed as exc:
        failure = exc
    except DBAPIError as exc:
        failure = engine.connection_failed(exc, parse_url(url))
    assert "cannot connect" not in failure.message and "statement timeout" in failure.message
    assert "statement_timeout_ms" in (failure.hint or "")


def test_an_object_that_exists_with_no_history_names_adopt_and_repair(any_url: str, tmp_path: Path) -> None:
    config = project(tmp_path, any_url, ("1",))
    assert cli(config, "apply")[0] == 0
    execute(any_url, "DROP TABLE dualpath_history", "DROP TABLE dualpath_audit")
    code, output = cli(config, "apply")
    assert code == 4, output
    hint = output.split("next:", 1)[1]
    assert "exists already" in hint and "dualpath adopt" in hint and "dualpath repair" in hint, output
    assert "fix the statement" not in hint.split(";")[0]


def test_a_manifest_naming_a_file_outside_its_backup_is_refused_with_next(sqlite_url: str, tmp_path: Path) -> None:
    execute(sqlite_url, "CREATE TABLE t (id INT)")
    dest = (tmp_path / "backups").as_uri()
    made = run_cli("backup", "create", "--url", sqlite_url, "--to", dest)
    assert made.exit_code == 0, made.output
    manifest = next((tmp_path / "backups").glob("*/manifest.json"))
    data = json.loads(manifest.read_text())
    (tmp_path / "outside.sqlite3").write_bytes((manifest.parent / data["artifacts"][0]["name"]).read_bytes())
    data["artifacts"][0]["name"] = "../../outside.sqlite3"
    manifest.write_text(json.dumps(data))
    checked = run_cli("backup", "verify", "--to", dest, "--id", manifest.parent.name)
    assert checked.exit_code == 1, checked.output
    assert "outside its backup folder" in checked.output and "next:" in checked.output


def test_a_query_canceled_after_connecting_is_explained_not_an_internal_error(pg_url: str) -> None:
    """The session's own timeout can cancel any of dualpath's queries (reading history, taking the lock):
    the CLI edge names it and says what to do, whatever query it hit."""
    import typer
    from sqlalchemy import text
    from typer.testing import CliRunner

    from dualpath.cli.console import handle_errors
    from dualpath.engines import open_engine

    app = typer.Typer()

    @app.command()
    @handle_errors
    def slow() -> None:
        with open_engine(pg_url + "?options=-c%20statement_timeout%3D1").connect() as conn:
            conn.execute(text("SELECT pg_sleep(5)"))

    result = CliRunner().invoke(app, [])
    assert result.exit_code == 2, result.output
    assert "internal error" not in result.output and "statement timeout" in result.output, result.output
    assert "statement_timeout_ms" in result.output.split("next:", 1)[1]
