"""`dualpath status` without SQLAlchemy (dualpath/quick_status.py): the same states as the usual path on
every engine, every state included; the quick path really skips SQLAlchemy; anything it cannot serve
(a cold cache, an unreachable server) is answered by the usual path, with its error and hint."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from dualpath.config import load_settings
from dualpath.defaults import quick_settings_of
from dualpath.quick_status import quick_states
from dualpath.session import open_session
from tests.integration.edited_support import cli, execute, project, write_change

# run in a fresh interpreter: which modules did status load, and what did it print?
# (through the console script's own entry, dualpath/cli/entry.py)
_PROBE = """
import json, sys
from dualpath.cli.entry import main
sys.argv = ["dualpath", *sys.argv[1:]]
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, **{m: m in sys.modules for m in ("sqlalchemy", "typer", "rich", "pydantic")}}))
"""


def _status_in_fresh_python(config: Path, *args: str, cwd: Path | None = None) -> tuple[dict[str, object], str]:
    """``cwd`` given: no --config (a folder without dualpath.toml, or with one the command finds there)."""
    where = ["--config", str(config)] if cwd is None else []
    env = {k: v for k, v in os.environ.items() if k != "DUALPATH_CONFIG"}
    done = subprocess.run([sys.executable, "-c", _PROBE, "status", *where, *args],
                          capture_output=True, text=True, cwd=cwd or config.parent, env=env, timeout=120)
    lines = done.stdout.strip().splitlines()
    return json.loads(lines[-1]), "\n".join(lines[:-1]) + done.stderr


def _states(items: list[object]) -> list[tuple[object, ...]]:
    return [(s.version, s.state, s.description, s.applied_at, s.where) for s in items]  # type: ignore[attr-defined]


def test_quick_and_usual_status_agree_on_every_state(any_url: str, tmp_path: Path) -> None:
    config = project(tmp_path, any_url, ("1", "2", "3"))
    assert cli(config, "apply", "--to", "2")[0] == 0
    folder = tmp_path / "migrations"
    (folder / "V2__gadgets.sql").write_text("CREATE TABLE gadgets (id INT PRIMARY KEY, size INT);\n")  # drifted
    write_change(folder, "4", "bolts", "CREATE TABLE bolts (id INT PRIMARY KEY);\n", "DROP TABLE bolts;\n")
    execute(any_url, "UPDATE dualpath_history SET direction = 'sideways' WHERE version = '1'")  # unknown

    settings = load_settings(config)
    usual = open_session("db", None, config)
    expected = _states(usual.states())  # reads the folder and fills the cache
    quick = quick_states(quick_settings_of(settings), "db", None)
    assert quick is not None, "a warm cache and a reachable server: the quick path answers"
    assert _states(quick.states) == expected
    assert {s[1] for s in expected} >= {"unknown", "drifted", "pending"}
    assert quick.layout == usual.layout and [c.checksum for c in quick.changes] == [c.checksum for c in usual.changes]


def test_status_skips_sqlalchemy_once_the_folder_is_cached(any_url: str, tmp_path: Path) -> None:
    config = project(tmp_path, any_url, ("1", "2"))
    assert cli(config, "apply", "--to", "1")[0] == 0
    first, _ = _status_in_fresh_python(config, "--url", "db", "--format", "json")
    second, output = _status_in_fresh_python(config, "--url", "db", "--format", "json")
    assert first["code"] in (0, None) and second["code"] in (0, None), output
    assert second["sqlalchemy"] is False, "a status with a warm cache must not import SQLAlchemy"
    assert second["typer"] is False and second["rich"] is False, "nor Typer or Rich (into a pipe)"
    states = json.loads(output[output.index("["):output.rindex("]") + 1])
    assert [(s["version"], s["state"]) for s in states] == [("1", "applied"), ("2", "pending")]


def test_status_without_a_config_file_loads_no_pydantic(any_url: str, tmp_path: Path) -> None:
    """No dualpath.toml: the defaults (dualpath/defaults.py) are read without pydantic, whose first model
    costs more than the rest of such a status; the states are the ones the usual path gives."""
    config = project(tmp_path, any_url, ("1", "2"))
    assert cli(config, "apply", "--to", "1")[0] == 0
    elsewhere = tmp_path / "no_config_here"
    elsewhere.mkdir()
    args = ("--url", any_url, "--migrations", str(tmp_path / "migrations"), "--format", "json")
    first, output = _status_in_fresh_python(config, *args, cwd=elsewhere)  # fills this folder's cache
    second, output = _status_in_fresh_python(config, *args, cwd=elsewhere)
    assert first["code"] in (0, None) and second["code"] in (0, None), output
    assert second["pydantic"] is False and second["sqlalchemy"] is False, output
    states = json.loads(output[output.index("["):output.rindex("]") + 1])
    assert [(s["version"], s["state"]) for s in states] == [("1", "applied"), ("2", "pending")]
    # with a dualpath.toml where the command runs, its settings are read (and pydantic is needed for them)
    (elsewhere / "dualpath.toml").write_text('[rollback]\nmissing = "refuse"\n')
    third, output = _status_in_fresh_python(config, *args, cwd=elsewhere)
    assert third["code"] in (0, None) and third["pydantic"] is True, output


def test_a_password_in_the_url_is_not_shown_by_the_quick_path(pg_url: str, tmp_path: Path) -> None:
    execute(pg_url, "DROP ROLE IF EXISTS dp_quick_reader", "CREATE ROLE dp_quick_reader LOGIN PASSWORD 's3cr:t@pw'",
            "GRANT ALL ON SCHEMA public TO dp_quick_reader")
    try:
        with_password = pg_url.replace("postgres@", "dp_quick_reader:s3cr%3At%40pw@")
        config = project(tmp_path, with_password, ("1",))
        assert cli(config, "apply")[0] == 0
        _status_in_fresh_python(config, "--url", "db")
        probe, output = _status_in_fresh_python(config, "--url", with_password)
        assert probe["sqlalchemy"] is False, output
        assert "s3cr" not in output and "dp_quick_reader:***@" in output
        assert "applied" in output
    finally:
        execute(pg_url, "DROP OWNED BY dp_quick_reader", "DROP ROLE IF EXISTS dp_quick_reader")


def test_an_unreachable_server_is_told_by_the_usual_path(tmp_path: Path) -> None:
    config = project(tmp_path, "postgresql://postgres@127.0.0.1:1/nowhere", ("1",))
    probe, output = _status_in_fresh_python(config, "--url", "db")
    assert probe["code"] not in (0, None)
    assert "127.0.0.1:1" in output and "Traceback" not in output


def test_the_quick_entry_prints_what_the_command_prints(pg_url: str, tmp_path: Path) -> None:
    config = project(tmp_path, pg_url, ("1", "2", "3"))
    assert cli(config, "apply", "--to", "2")[0] == 0
    for undo in (tmp_path / "migrations").glob("U3__*.sql"):
        undo.unlink()  # a change without a way back: its report line comes after the columns
    for fmt in ("text", "json"):
        code, typer_output = cli(config, "status", f"--format={fmt}")
        probe, entry_output = _status_in_fresh_python(config, "--url", "db", "--format", fmt)
        assert probe["typer"] is False, entry_output
        assert (probe["code"], entry_output.strip()) == (code, typer_output.strip())


def test_what_the_quick_entry_does_not_know_goes_to_the_command(pg_url: str, tmp_path: Path) -> None:
    config = project(tmp_path, pg_url, ("1",))
    assert cli(config, "apply")[0] == 0
    _status_in_fresh_python(config, "--url", "db")  # the cache is warm: only the arguments decide
    probe, output = _status_in_fresh_python(config, "--url", "db", "--format", "yaml")
    assert probe["code"] == 2 and probe["typer"] is True and "text or json" in output
    assert "internal error" not in output  # Typer's own usage error, not a crash of ours
    probe, output = _status_in_fresh_python(config, "--url", "db", "--help")
    assert probe["code"] == 0 and "Usage: dualpath status" in " ".join(output.split())
