"""A change that failed half-way is part of what a rollback must settle (issue 14, item 8).

On MySQL/MariaDB DDL commits on its own, so a change can fail after some of its statements stayed.
A rollback that reaches it refuses before anything runs, names it, what of it ran and how to settle
it; ``--steps`` counts it. Where the failed change rolled back entirely (PostgreSQL, SQLite) it is
simply not applied and the rollback goes past it."""

from __future__ import annotations

from pathlib import Path

import pytest

from dualpath import history
from dualpath.engines import open_engine
from tests.integration.edited_support import cli, digest, execute
from tests.integration.helpers import fingerprint, status_json, write_config


def _halfway(tmp_path: Path, url: str) -> Path:
    """1_a creates a; 2_b creates b, then a again: it fails at its second statement."""
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "1_a.up.sql").write_text("CREATE TABLE a (id INT);\n")
    (folder / "1_a.down.sql").write_text("DROP TABLE a;\n")
    (folder / "2_b.up.sql").write_text("CREATE TABLE b (id INT);\n\nCREATE TABLE a (id INT);\n")
    (folder / "2_b.down.sql").write_text("DROP TABLE b;\n")
    return write_config(tmp_path, url)


def _tables(url: str) -> set[str]:
    return {name for name in fingerprint(url).objects.get("table", {}) if "dualpath" not in name}


@pytest.mark.parametrize("how", [("--steps", "1"), ("--to", "1"), ("--all",), ("--steps", "2", "--dry-run")])
def test_rollback_reaching_a_half_applied_change_refuses_before_anything_runs(
        mysql_url: str, tmp_path: Path, how: tuple[str, ...]) -> None:
    config = _halfway(tmp_path, mysql_url)
    code, output = cli(config, "apply")
    assert code == 4, output
    assert [s["state"] for s in status_json(config)] == ["applied", "failed"]
    before = digest(mysql_url)

    code, output = cli(config, "rollback", *how)
    assert code == 3, output
    assert "version 2" in output and "failed half-way" in output
    assert "2_b.up.sql:1" in output and "CREATE TABLE b" in output  # what of it ran and stays
    assert "nothing was rolled back" in output
    assert "next:" in output and "dualpath repair" in output
    assert "rolled back 1" not in output and "Traceback" not in output
    assert digest(mysql_url) == before and _tables(mysql_url) == {"a", "b"}
    assert [s["state"] for s in status_json(config)] == ["applied", "failed"]


def test_once_settled_by_hand_and_repaired_the_rollback_runs(mysql_url: str, tmp_path: Path) -> None:
    config = _halfway(tmp_path, mysql_url)
    assert cli(config, "apply")[0] == 4
    execute(mysql_url, "DROP TABLE b")  # the operator undoes what ran, as the refusal says
    assert cli(config, "repair")[0] == 0
    assert [s["state"] for s in status_json(config)] == ["applied", "pending"]
    code, output = cli(config, "rollback", "--steps", "1")
    assert code == 0, output
    assert "rolled back 1 a" in output
    assert _tables(mysql_url) == set()


def test_a_change_whose_rollback_failed_half_way_is_refused_too(mysql_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "1_a.up.sql").write_text("CREATE TABLE a (id INT);\n")
    (folder / "1_a.down.sql").write_text("DROP TABLE a;\n")
    (folder / "2_b.up.sql").write_text("CREATE TABLE b (id INT);\n\nCREATE TABLE c (id INT);\n")
    (folder / "2_b.down.sql").write_text("DROP TABLE c;\n\nDROP TABLE no_such_table;\n\nDROP TABLE b;\n")
    config = write_config(tmp_path, mysql_url)
    assert cli(config, "apply")[0] == 0
    code, output = cli(config, "rollback", "--steps", "1")
    assert code == 4, output  # c dropped, then the second statement fails
    assert [s["state"] for s in status_json(config)] == ["applied", "failed"]
    before = digest(mysql_url)

    code, output = cli(config, "rollback", "--steps", "1")
    assert code == 3, output
    assert "version 2" in output and "rollback failed half-way" in output
    assert "2_b.down.sql:1" in output and "DROP TABLE c" in output
    assert "dualpath repair" in output
    assert digest(mysql_url) == before and _tables(mysql_url) == {"a", "b"}


def test_an_interrupted_apply_left_in_the_journal_is_refused(mysql_url: str, tmp_path: Path) -> None:
    """A run killed inside change 2 leaves no failure row, only its journal: 2 is pending, b stays."""
    config = _halfway(tmp_path, mysql_url)
    (tmp_path / "migrations" / "2_b.up.sql").write_text("CREATE TABLE b (id INT);\n\nCREATE TABLE c (id INT);\n")
    (tmp_path / "migrations" / "2_b.down.sql").write_text("DROP TABLE c;\n\nDROP TABLE b;\n")
    assert cli(config, "apply", "--to", "1")[0] == 0
    execute(mysql_url, "CREATE TABLE b (id INT)")
    from dualpath.sources import read_changes

    change = read_changes(tmp_path / "migrations")[1]
    engine = open_engine(mysql_url)
    with engine.connect() as conn, conn.begin():  # what the killed run journaled after its first statement
        history.journal_mark(conn, history.make_actor("killed", tmp_path), version="2", direction="up", index=0,
                             location=change.forward[0].where, checksum=change.checksum, state=history.DONE,
                             attempt=history.attempt_of(conn, "2"))
    assert [s["state"] for s in status_json(config)] == ["applied", "pending"]
    before = digest(mysql_url)

    code, output = cli(config, "rollback", "--steps", "1")
    assert code == 3, output
    assert "version 2" in output and "interrupted" in output and "2_b.up.sql:1" in output
    assert "dualpath apply" in output  # a re-run resumes it
    assert digest(mysql_url) == before

    code, output = cli(config, "apply")  # finish it, as the refusal says, then roll back
    assert code == 0, output
    code, output = cli(config, "rollback", "--all")
    assert code == 0, output
    assert _tables(mysql_url) == set()


@pytest.mark.parametrize("engine_url", ["pg_url", "sqlite_url"])
def test_where_the_failed_change_rolled_back_entirely_the_rollback_goes_past_it(
        engine_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = str(request.getfixturevalue(engine_url))
    config = _halfway(tmp_path, url)
    code, output = cli(config, "apply")
    assert code == 4 and "nothing of this change stays" in output, output
    assert _tables(url) == {"a"}

    code, output = cli(config, "rollback", "--steps", "1")
    assert code == 0, output
    assert "rolled back 1 a" in output and "version 2" not in output
    assert _tables(url) == set()
    assert [s["state"] for s in status_json(config)] == ["pending", "failed"]


def test_the_flows_tenant_rollback_refuses_the_same_way(mysql_url: str, tmp_path: Path) -> None:
    """The migrate flow's rollback of a tenant (dualpath.tenants.rollback_tenant) goes through the same
    planning: the run's half-applied change is named, nothing of the run is rolled back past it."""
    from dualpath.errors import TargetRefused
    from dualpath.session import open_session
    from dualpath.tenants import rollback_tenant

    config = _halfway(tmp_path, mysql_url)
    assert cli(config, "apply")[0] == 4
    runner = open_session("db", None, config, echo=lambda line: None).runner()
    with pytest.raises(TargetRefused) as refused:
        rollback_tenant(runner, None)
    assert "version 2" in str(refused.value) and "failed half-way" in str(refused.value)
    assert _tables(mysql_url) == {"a", "b"}


def test_a_no_transaction_change_half_applied_on_postgresql_is_refused(pg_url: str, tmp_path: Path) -> None:
    """Outside a transaction PostgreSQL keeps what ran too: the same refusal as on MariaDB."""
    config = _halfway(tmp_path, pg_url)
    up = tmp_path / "migrations" / "2_b.up.sql"
    up.write_text("-- dualpath:no-transaction\n" + up.read_text())
    assert cli(config, "apply")[0] == 4
    assert _tables(pg_url) == {"a", "b"}
    code, output = cli(config, "rollback", "--steps", "1")
    assert code == 3, output
    assert "version 2" in output and "failed half-way" in output and "CREATE TABLE b" in output
    assert _tables(pg_url) == {"a", "b"}
