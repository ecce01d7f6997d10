"""`dualpath apply` and `rollback` without Typer (dualpath/cli/entry.py, runs.py, failures.py): run by the
console entry they print exactly what the Typer commands print and exit with the same code (success, a
failed change, an error with its hint, an unreachable server), and Typer is not imported on the way;
what the entry does not read (--dry-run, --help, a bad number) goes to the Typer commands. An apply in the
plain case is run without SQLAlchemy (dualpath/plain_apply.py): nothing to do is told, plain pending changes
on PostgreSQL are applied with the rows, tables and schema the runner leaves, a failure hands the change to
the runner; every state in which the runner might say or do anything else goes the usual way."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dualpath.engines.plain import parse_plain
from dualpath.engines.postgres.plain import advisory_key
from tests.integration.dbs import server_database
from tests.integration.edited_support import digest, execute, project, write_change

# a fresh interpreter, as the console script runs: through the entry (entry.py), or straight into the
# Typer app (core.py) for what the same arguments print there
_PROBE = """
import json, sys
mode = sys.argv[1]
sys.argv = ["dualpath", *sys.argv[2:]]
code = 0
try:
    if mode == "entry":
        from dualpath.cli.entry import main
    else:
        from dualpath.cli.core import main
    main()
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "typer": "typer" in sys.modules, "sqlalchemy": "sqlalchemy" in sys.modules}))
"""


def _run(mode: str, config: Path, *args: str) -> tuple[dict[str, object], str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("DUALPATH_DEBUG", "FORCE_COLOR")}
    done = subprocess.run([sys.executable, "-c", _PROBE, mode, *args, "--config", str(config)],
                          capture_output=True, text=True, cwd=config.parent, env=env, timeout=120)
    lines = done.stdout.strip().splitlines()
    return json.loads(lines[-1]), _same(config, "\n".join(lines[:-1])), _same(config, done.stderr)


def _same(config: Path, text: str) -> str:
    """What differs between two projects run alike: their folder, timings, backup ids (time and database)."""
    text = text.replace(str(config.parent), "<project>")
    text = re.sub(r"\d+ ms\b", "N ms", text)
    return re.sub(r"backup \S+ verified", "backup <id> verified", text)


@pytest.fixture
def two_projects(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, Path]:
    """The same project twice, each on its own fresh PostgreSQL database: one for each way in."""
    configs = []
    with server_database("postgresql", request.node.name) as one, \
            server_database("postgresql", request.node.name) as two:
        for name, url in (("entry", one), ("typer", two)):
            (tmp_path / name).mkdir()
            configs.append(project(tmp_path / name, url, ("1", "2", "3")))
        yield configs[0], configs[1]


def _both(configs: tuple[Path, Path], *args: str) -> tuple[dict[str, object], str, str]:
    """Run ``args`` through the entry on the first project and the Typer app on the second; what each
    printed must be the same. Returns the entry's."""
    entry = _run("entry", configs[0], *args)
    typer = _run("typer", configs[1], *args)
    assert entry[0]["typer"] is False, f"Typer imported on the entry's path:\n{entry[1]}\n{entry[2]}"
    assert (entry[0]["code"], entry[1], entry[2]) == (typer[0]["code"], typer[1], typer[2])
    return entry


def test_apply_and_rollback_print_what_the_commands_print(two_projects: tuple[Path, Path]) -> None:
    probe, out, _ = _both(two_projects, "apply", "--url", "db", "--to", "2")
    assert probe["code"] == 0 and "applied 2 gadgets" in out and "sprockets" not in out
    probe, out, _ = _both(two_projects, "apply", "--url=db")
    assert probe["code"] == 0 and "applied 3 sprockets" in out
    probe, out, _ = _both(two_projects, "apply", "--url", "db")
    assert probe["code"] == 0 and "nothing to do" in out
    probe, out, _ = _both(two_projects, "rollback", "--url", "db", "--steps", "1")
    assert probe["code"] == 0 and "3 sprockets" in out
    probe, out, _ = _both(two_projects, "rollback", "--all", "--url", "db")
    assert probe["code"] == 0 and "1 widgets" in out


def test_a_failed_change_and_errors_are_told_as_the_commands_tell_them(two_projects: tuple[Path, Path]) -> None:
    for config in two_projects:
        write_change(config.parent / "migrations", "4", "broken", "CREATE TABLE broken (id INT PRIMARY KEY;\n",
                     "DROP TABLE broken;\n")
    probe, out, err = _both(two_projects, "apply", "--url", "db")
    assert probe["code"] == 4 and "applied 3 sprockets" in out and "V4__broken.sql:1" in err
    assert "then run `dualpath apply` again" in err  # the hint
    assert "Traceback" not in out + err and "internal error" not in err
    probe, out, err = _both(two_projects, "apply", "--url", "db")  # tried again: it fails again
    assert probe["code"] == 4 and "V4__broken.sql:1" in err
    probe, _, err = _both(two_projects, "rollback", "--url", "dbb", "--all")
    assert probe["code"] == 2 and "unknown target 'dbb'" in err and "did you mean 'db'?" in err
    probe, _, err = _both(two_projects, "apply", "--url", "postgresql://postgres:s3cret@127.0.0.1:1/nowhere")
    assert probe["code"] not in (0, None) and "127.0.0.1:1" in err and "s3cret" not in err
    assert "Traceback" not in err and "internal error" not in err


@pytest.mark.parametrize(("args", "code", "said"), [
    (("apply", "--url", "db", "--dry-run"), 0, "CREATE TABLE widgets"),
    (("apply", "--help"), 0, "Usage: dualpath apply"),
    (("rollback", "--url", "db", "--steps", "x"), 2, "Try 'dualpath rollback --help'"),
    (("rollback", "--url", "db", "--all", "--approval", "run-1"), 0, "nothing to roll back"),
])
def test_what_the_entry_does_not_read_goes_to_the_commands(pg_url: str, tmp_path: Path, args: tuple[str, ...],
                                                            code: int, said: str) -> None:
    config = project(tmp_path, pg_url, ("1",))
    probe, out, err = _run("entry", config, *args)
    assert probe["typer"] is True and probe["code"] == code, out + err
    assert said in " ".join((out + err).split())


def test_an_apply_with_nothing_to_do_is_told_without_sqlalchemy(two_projects: tuple[Path, Path]) -> None:
    _both(two_projects, "apply", "--url", "db")  # the usual path: applies, and fills the folder cache
    entry, out, _ = _both(two_projects, "apply", "--url", "db")
    assert entry["code"] == 0 and out == "nothing to do: the target is up to date"
    assert entry["sqlalchemy"] is False, "a warm cache and nothing to do: no SQLAlchemy"


def _drop_file(folder: Path, version: str) -> None:
    for path in folder.glob(f"[VU]{version}__*.sql"):
        path.unlink()


def _rename(folder: Path, version: str, description: str) -> None:
    for path in folder.glob(f"[VU]{version}__*.sql"):
        path.rename(path.with_name(f"{path.name[0]}{version}__{description}.sql"))


# each a state in which the runner may say, refuse, back up or do something the plain path does not: it
# must leave the run to the runner
_STATES = {
    "pending destructive": lambda url, folder: write_change(folder, "4", "bolts", "DROP TABLE sprockets;\n",
                                                            "CREATE TABLE sprockets (id INT PRIMARY KEY);\n"),
    "pending that sets the session": lambda url, folder: write_change(
        folder, "4", "bolts", "SET search_path TO public;\nCREATE TABLE bolts (id INT);\n", "DROP TABLE bolts;\n"),
    "pending outside a transaction": lambda url, folder: write_change(
        folder, "4", "bolts", "CREATE INDEX CONCURRENTLY bolts_ix ON widgets (name);\n", "DROP INDEX bolts_ix;\n"),
    "pending without a way back": lambda url, folder: (folder / "V4__bolts.sql").write_text("CREATE TABLE b (i INT);"),
    "pending out of order": lambda url, folder: write_change(folder, "2.5", "bolts", "CREATE TABLE bolts (id INT);\n",
                                                             "DROP TABLE bolts;\n"),
    "pending with a directive": lambda url, folder: write_change(
        folder, "4", "bolts", "-- dualpath:ticket id=OPS-1\nCREATE TABLE bolts (id INT);\n", "DROP TABLE bolts;\n"),
    "drifted": lambda url, folder: (folder / "V2__gadgets.sql").write_text("CREATE TABLE gadgets (id INT);\n"),
    "missing": lambda url, folder: _drop_file(folder, "3"),
    "renamed": lambda url, folder: _rename(folder, "3", "cogs"),
    "unknown direction": lambda url, folder: execute(
        url, "UPDATE dualpath_history SET direction = 'sideways' WHERE version = '1'"),
    "foreign column": lambda url, folder: execute(url, "ALTER TABLE dualpath_history ADD COLUMN extra INT"),
    "journal table gone": lambda url, folder: execute(url, "DROP TABLE dualpath_statement_journal"),
    "no attempt column": lambda url, folder: execute(url, "ALTER TABLE dualpath_batch_checkpoint DROP COLUMN attempt"),
    "failed": lambda url, folder: execute(
        url, "INSERT INTO dualpath_history (version, description, checksum, direction, applied_at, applied_by, "
             "duration_ms, success, run_id) VALUES ('3', 'sprockets', 'x', 'up', now(), 'me', 1, false, 'r')"),
}


@pytest.mark.parametrize("state", sorted(_STATES))
def test_any_state_but_all_applied_goes_the_usual_way(pg_url: str, tmp_path: Path, state: str) -> None:
    config = project(tmp_path, pg_url, ("1", "2", "3"))
    assert _run("entry", config, "apply", "--url", "db")[0]["code"] == 0
    assert _run("entry", config, "apply", "--url", "db")[0]["sqlalchemy"] is False  # the quick answer, until:
    _STATES[state](pg_url, tmp_path / "migrations")
    _run("typer", config, "status", "--url", "db")  # the folder's cache warm again: only the state decides
    probe, out, err = _run("entry", config, "apply", "--url", "db")
    assert probe["sqlalchemy"] is True, f"{state}: answered without the runner:\n{out}\n{err}"
    assert "Traceback" not in out + err and "internal error" not in err
    if state.startswith("pending"):
        assert probe["code"] == 0 and "applied" in out, f"{state}: the runner applies it\n{out}\n{err}"


def test_a_held_run_lock_a_protected_environment_options_and_to_go_the_usual_way(pg_url: str,
                                                                                   tmp_path: Path) -> None:
    config = project(tmp_path, pg_url, ("1", "2", "3"))
    assert _run("entry", config, "apply", "--url", "db")[0]["code"] == 0
    assert _run("entry", config, "apply", "--url", "db")[0]["sqlalchemy"] is False

    import psycopg

    url = parse_plain(pg_url.replace("+psycopg", ""))
    assert url is not None
    with psycopg.connect(host=url.host, port=url.port, user=url.user, dbname=url.database, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (advisory_key(url.database),))
        probe, _, err = _run("entry", config, "apply", "--url", "db")
        assert probe["sqlalchemy"] is True and probe["code"] == 3 and "target locked by run" in err
    probe, out, _ = _run("entry", config, "apply", "--url", "db", "--to", "3")
    assert probe["sqlalchemy"] is True and probe["code"] == 0 and "nothing to do" in out
    scoped = pg_url + ("&" if "?" in pg_url else "?") + "options=-csearch_path%3Dpublic"
    probe, out, _ = _run("entry", config, "apply", "--url", scoped)
    assert probe["sqlalchemy"] is True and probe["code"] == 0 and "nothing to do" in out

    protected = project(tmp_path, pg_url, ("1", "2", "3"), env='environment = "prod"', l1="[environments.prod]",
                        l2="protected = true")
    probe, _, err = _run("entry", protected, "apply", "--url", "db")
    assert probe["sqlalchemy"] is True and probe["code"] == 3 and "protected" in err


def _url_of(config: Path) -> str:
    import tomllib

    return str(tomllib.loads(config.read_text())["targets"]["db"]["url"])


def _connect(url: str) -> Any:
    """A psycopg connection to the test database ``url`` (an SQLAlchemy URL)."""
    import psycopg

    plain = parse_plain(url.replace("+psycopg", ""))
    assert plain is not None
    return psycopg.connect(host=plain.host, port=plain.port, user=plain.user, dbname=plain.database)


def _rows(config: Path) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]], set[str]]:
    """What a run leaves, without what differs between two runs (ids, times, run ids, durations, the
    project's folder); and the run ids."""
    url = _url_of(config)
    with _connect(url) as conn:
        history = conn.execute("SELECT version, description, checksum, direction, applied_by, success, detail "
                               "FROM dualpath_history ORDER BY id").fetchall()
        audit = conn.execute("SELECT action, version, who, host, git_commit, ticket, detail FROM dualpath_audit "
                             "ORDER BY id").fetchall()
        runs = {str(r[0]) for r in conn.execute("SELECT run_id FROM dualpath_history UNION "
                                                "SELECT run_id FROM dualpath_audit").fetchall()}

    def same(rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
        return [tuple(_same(config, v) if isinstance(v, str) else v for v in row) for row in rows]

    return same(history), same(audit), runs


def _dualpath_tables(url: str) -> list[tuple[object, ...]]:
    """dualpath's own tables as the server holds them: columns with their types, indexes, constraints."""
    with _connect(url) as conn:
        columns = conn.execute(
            "SELECT table_name, column_name, data_type, character_maximum_length, is_nullable, column_default "
            "FROM information_schema.columns WHERE table_name LIKE 'dualpath%%' ORDER BY 1, 2").fetchall()
        indexes = conn.execute("SELECT tablename, indexname, indexdef FROM pg_indexes "
                               "WHERE tablename LIKE 'dualpath%%' ORDER BY 1, 2").fetchall()
    return [*columns, *indexes]


def _plain_change(folder: Path, version: str, up: str) -> None:
    write_change(folder, version, f"step{version}", up, f"DROP TABLE IF EXISTS t{version};\n")


def test_plain_pending_changes_are_applied_without_sqlalchemy_as_the_runner_applies_them(
        two_projects: tuple[Path, Path]) -> None:
    """On a database without dualpath's tables yet and then on top of applied changes: the same output, the
    same history and audit rows, the same tables of dualpath's own and the same schema as the runner's."""
    for config in two_projects:
        folder = config.parent / "migrations"
        _plain_change(folder, "4", "CREATE TABLE t4 (v TEXT);\n"
                                   "CREATE INDEX t4_a ON t4 (v) WHERE v LIKE 'a%' -- a % in a comment\n;\n"
                                   "INSERT INTO t4 VALUES ('50%'), (format('%s%%', 7));\n")
        _run("typer", config, "status", "--url", "db")  # the folder read and cached (a cold cache goes the usual way)
    entry, out, _ = _both(two_projects, "apply", "--url", "db")
    assert entry["code"] == 0 and entry["sqlalchemy"] is False, out
    assert out.splitlines() == ["applied 1 widgets (N ms)", "applied 2 gadgets (N ms)", "applied 3 sprockets (N ms)",
                                "applied 4 step4 (N ms)"]
    for config in two_projects:
        _plain_change(config.parent / "migrations", "5", "CREATE TABLE t5 (id INT PRIMARY KEY);\n")
        _run("typer", config, "status", "--url", "db")
    entry, out, _ = _both(two_projects, "apply", "--url", "db")
    assert entry["sqlalchemy"] is False and out == "applied 5 step5 (N ms)"

    plain_url, usual_url = (_url_of(config) for config in two_projects)
    plain, usual = _rows(two_projects[0]), _rows(two_projects[1])
    assert plain[:2] == usual[:2] and len(plain[0]) == 5 and len(plain[1]) == 5
    assert len(plain[2]) == 2, "one run per command"
    assert _dualpath_tables(plain_url) == _dualpath_tables(usual_url)
    assert digest(plain_url) == digest(usual_url)
    execute(plain_url, "DELETE FROM t4 WHERE v IN ('50%', '7%')")  # the % reached the server as written
    assert _count(plain_url, "t4") == 0


def _count(url: str, table: str) -> int:
    with _connect(url) as conn:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    assert row is not None
    return int(row[0])


def test_a_change_that_fails_in_a_message_hands_it_to_the_runner(two_projects: tuple[Path, Path]) -> None:
    """More changes than one message holds (plain_apply.GROUP_CHANGES): the first message applies, the second
    stops at the broken change; the runner runs it again and tells its failure as the Typer command does,
    and nothing after it runs. One run, as one command."""
    from dualpath.plain_apply import GROUP_CHANGES

    broken = GROUP_CHANGES + 8
    for config in two_projects:
        folder = config.parent / "migrations"
        for n in range(4, GROUP_CHANGES + 12):
            up = "INSERT INTO nowhere VALUES (1);\n" if n == broken else f"CREATE TABLE t{n} (id INT);\n"
            _plain_change(folder, str(n), f"CREATE TABLE u{n} (id INT);\n{up}")
        _run("typer", config, "status", "--url", "db")
    entry, out, err = _both(two_projects, "apply", "--url", "db")
    assert entry["code"] == 4 and entry["sqlalchemy"] is True  # the runner told the failure
    assert f"applied {broken - 1} step{broken - 1} (N ms)" in out and f"step{broken + 1}" not in out
    assert f"V{broken}__step{broken}.sql:2" in err and "Traceback" not in err
    plain_url, usual_url = (_url_of(config) for config in two_projects)
    plain, usual = _rows(two_projects[0]), _rows(two_projects[1])
    assert plain[:2] == usual[:2] and len(plain[2]) == 1
    assert [row[5] for row in plain[0]][-2:] == [True, False]  # the last applied one, then the failure row
    assert digest(plain_url) == digest(usual_url)


def test_the_targets_own_timeouts_hold_on_the_plain_path(pg_url: str, tmp_path: Path) -> None:
    """A named target's [safety] (not the top-level one) bounds each statement: a change slower than its
    statement_timeout fails and stays unapplied, whichever path ran it."""
    config = project(tmp_path, pg_url, ("1",), l1="[targets.db.safety]", l2="statement_timeout_ms = 100")
    assert _run("entry", config, "apply", "--url", "db")[0]["code"] == 0
    _plain_change(tmp_path / "migrations", "2",
                  "CREATE TABLE t2 (v TEXT);\nINSERT INTO t2 VALUES ((pg_sleep(1))::text);\n")
    _run("typer", config, "status", "--url", "db")  # cached: the plain path may take it
    probe, out, err = _run("entry", config, "apply", "--url", "db")
    assert probe["code"] == 4 and "statement timeout" in err, out + err
    assert _rows(config)[0][-1][5] is False  # recorded as failed by the runner
