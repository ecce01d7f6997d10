"""`dualpath apply` and `rollback` without Typer (dualpath/cli/entry.py, runs.py, failures.py): run by the
console entry they print exactly what the Typer commands print and exit with the same code (success, a
failed change, an error with its hint, an unreachable server), and Typer is not imported on the way;
what the entry does not read (--dry-run, --help, a bad number) goes to the Typer commands."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.dbs import server_database
from tests.integration.edited_support import project, write_change

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
