"""`dualpath apply` and `rollback` without Typer (dualpath/cli/entry.py, runs.py, failures.py): run by the
console entry they print exactly what the Typer commands print and exit with the same code (success, a
failed change, an error with its hint, an unreachable server), and Typer is not imported on the way;
what the entry does not read (--dry-run, --help, a bad number) goes to the Typer commands. An apply with
nothing to do is told without SQLAlchemy (dualpath/quick_apply.py), and every state in which the runner
might say or do anything else goes the usual way."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dualpath.engines.plain import parse_plain
from dualpath.engines.postgres.plain import advisory_key
from tests.integration.dbs import server_database
from tests.integration.edited_support import execute, project, write_change

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


# each a state in which the runner may say, refuse or do something: the quick answer must not be given
_STATES = {
    "pending": lambda url, folder: write_change(folder, "4", "bolts", "CREATE TABLE bolts (id INT);\n",
                                                "DROP TABLE bolts;\n"),
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
