"""Every action leaves an audit row (who, host, commit, ticket); passwords never leave."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import text

from dualpath.engines import open_engine
from dualpath.history import audit_rows
from tests.integration.helpers import run_cli, write_config


def _project(tmp_path: Path) -> Path:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "V1__create_gizmos.sql").write_text(
        "-- dualpath:ticket OPS-42\nCREATE TABLE gizmos (id INT PRIMARY KEY);\n")
    (folder / "U1__create_gizmos.sql").write_text("DROP TABLE gizmos;\n")
    (folder / "V2__PAY-7_fail.sql").write_text("CREATE TABLE gizmo_log (id INT PRIMARY KEY);\n\n"
                                               "INSERT INTO no_such_table VALUES (1);\n")
    (folder / "U2__PAY-7_fail.sql").write_text("DROP TABLE gizmo_log;\n")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@e", "add", "."], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "m"],
                   check=True)
    return folder


def test_audit_rows_carry_who_host_commit_and_ticket(pg_url: str, tmp_path: Path) -> None:
    _project(tmp_path)
    config = write_config(tmp_path, pg_url)
    commit = subprocess.run(["git", "-C", str(tmp_path), "rev-parse", "HEAD"], capture_output=True,
                            text=True, check=True).stdout.strip()
    result = run_cli("apply", "--config", str(config), "--url", "db")
    assert result.exit_code == 4  # V2 fails; V1 stays applied
    engine = open_engine(pg_url)
    with engine.connect() as conn:
        rows = audit_rows(conn)
    by_version = {r["version"]: r for r in rows}
    assert by_version["1"]["ticket"] == "OPS-42"  # from the directive
    assert by_version["2"]["ticket"] == "PAY-7"  # from the configured pattern, in the file name
    assert by_version["1"]["git_commit"] == commit
    assert by_version["1"]["host"] == socket.gethostname()
    assert all(r["who"] for r in rows)
    assert "no_such_table" in (by_version["2"]["detail"] or "")


def test_password_in_url_never_appears_in_output_or_tables(pg_url: str, tmp_path: Path) -> None:
    # the local server trusts every login, so any password connects: ideal to prove it never leaks
    secret_url = pg_url.replace("postgres@", "postgres:Sup3rSecretPw@", 1)
    assert "Sup3rSecretPw" in secret_url
    folder = _project(tmp_path)
    outputs = [run_cli("apply", "--url", secret_url, "--migrations", str(folder), "--dry-run"),
               run_cli("apply", "--url", secret_url, "--migrations", str(folder)),
               run_cli("status", "--url", secret_url, "--migrations", str(folder)),
               run_cli("rollback", "--url", secret_url, "--migrations", str(folder), "--to", "nope")]
    for result in outputs:
        assert "Sup3rSecretPw" not in result.output
    engine = open_engine(pg_url)
    with engine.connect() as conn:
        dumped = " ".join(str(row) for table in ("dualpath_history", "dualpath_audit")
                          for row in conn.execute(text(f"SELECT * FROM {table}")))
    assert "Sup3rSecretPw" not in dumped and "gizmos" in " ".join(r.output for r in outputs)


@pytest.mark.parametrize("replica", [
    "mysql://repl:Sup3r@Secret:w%rd/#?x@replica.internal/db",  # a raw generated password: not a URL
    "postgresql://repl:Sup3r%40Secret@127.0.0.1:1/db?sslpassword=Sup3rSecret2",  # a URL, nothing listens
])
def test_a_bad_replica_url_leaves_no_password_in_history_audit_or_output(
        any_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, replica: str) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "V1__items.sql").write_text("CREATE TABLE items (id INT PRIMARY KEY, n INT);\n"
                                          "INSERT INTO items VALUES (1, 1), (2, 2);\n")
    (folder / "U1__items.sql").write_text("DROP TABLE items;\n")
    (folder / "V2__bump.sql").write_text("-- dualpath:batch table=items key=id size=1\nUPDATE items SET n = n + 1;\n")
    (folder / "U2__bump.sql").write_text("-- dualpath:batch table=items key=id size=1\nUPDATE items SET n = n - 1;\n")
    monkeypatch.setenv("DUALPATH_REPLICA_URLS", replica)
    result = run_cli("apply", "--url", any_url, "--migrations", str(folder))
    # refused at pre-flight, before the first statement (issue 13.3b): nothing written, nothing leaked
    assert result.exit_code == 2, result.output
    assert "replica" in result.output or "127.0.0.1:1" in result.output, result.output
    assert "Traceback" not in result.output and "Sup3r" not in result.output, result.output
    engine = open_engine(any_url)
    with engine.connect() as conn:
        assert not engine.table_exists(conn, "items")


@pytest.mark.parametrize("secret_url", [
    "mysql://repl:Sup3r@Secret:w%rd/#?x@replica.internal/db",
    "postgresql://repl:Sup3r%40Secret@127.0.0.1:1/db?sslpassword=Sup3rSecret2",
])
def test_history_and_audit_rows_never_store_a_urls_password(any_url: str, secret_url: str) -> None:
    """Whatever a caller puts in a row (a driver error quoting a URL, a detail holding one), the history and
    audit writers redact it: structural, not a matter of each caller remembering (issue 13.6)."""
    from dualpath import history

    actor = history.Actor(run_id="r1", who="tester", host="h", git_commit=None)
    engine = open_engine(any_url)
    with engine.connect() as conn:
        history.ensure_tables(conn)
        history.record(conn, actor, version="1", description=f"failed on {secret_url}", checksum="c",
                       direction="up", duration_ms=1, success=False,
                       detail={"error": f"cannot reach {secret_url}", "nested": [{"url": secret_url}]})
        history.audit(conn, actor, "apply", version="1", detail={"replica": secret_url})
        conn.commit()
        dumped = " ".join(str(row) for table in ("dualpath_history", "dualpath_audit")
                          for row in conn.execute(text(f"SELECT * FROM {table}")))
    assert "replica" in dumped or "127.0.0.1:1" in dumped, dumped  # the URL is shown, its secret is not
    assert "Sup3r" not in dumped and "Secret" not in dumped and "w%rd" not in dumped, dumped
