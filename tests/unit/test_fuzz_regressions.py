"""Bugs the bad-input fuzzing (tests/reliability/test_fuzz_*.py) found, each pinned by the smallest input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dualpath.cli import app
from dualpath.config import environment, load_settings
from dualpath.errors import InputError, UsageError
from dualpath.target import resolve_target


def _config(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "dualpath.toml"
    path.write_bytes(data)
    return path


def test_config_that_is_not_utf8_names_file_and_line(tmp_path: Path) -> None:
    # was: "internal error: UnicodeDecodeError" (exit 2 by accident, no place named)
    path = _config(tmp_path, b'migrations = "m"\n[targets]\ndb = {u\xdcrl = "x"}\n')
    with pytest.raises(InputError) as info:
        load_settings(path)
    assert info.value.where == f"{path}:3" and "UTF-8" in info.value.message


def test_config_that_is_not_utf8_is_an_input_error_in_the_cli(tmp_path: Path) -> None:
    path = _config(tmp_path, b"\xff\n")
    result = CliRunner().invoke(app, ["lint", str(tmp_path), "--config", str(path)])
    assert result.exit_code == 2 and "internal error" not in result.output
    assert f"{path}:1" in result.output and "next:" in result.output


@pytest.mark.parametrize(("text", "line"), [(b"a = 1\nb = \n", 2), (b"x = 1\n\n'", 3), (b"m", 1)])
def test_toml_syntax_error_names_the_line(tmp_path: Path, text: bytes, line: int) -> None:
    # was: the file only; "(at end of document)" gave no line at all
    path = _config(tmp_path, text)
    with pytest.raises(InputError) as info:
        load_settings(path)
    assert info.value.where == f"{path}:{line}"


def test_unknown_target_names_the_config_file(tmp_path: Path) -> None:
    # was: "unknown target 'db'" with no word of which file was read (cwd, $DUALPATH_CONFIG or --config)
    settings = load_settings(_config(tmp_path, b""))
    with pytest.raises(UsageError) as info:
        resolve_target(settings, "db", None)
    assert info.value.where == str(tmp_path / "dualpath.toml") and "[targets.db]" in (info.value.hint or "")


def test_no_database_given_names_the_config_file_and_its_targets(tmp_path: Path) -> None:
    settings = load_settings(_config(tmp_path, b'[targets.a]\nurl = "sqlite:///a.db"\n[targets.b]\nurl = "sqlite:///b.db"\n'))
    with pytest.raises(UsageError) as info:
        resolve_target(settings, None, None)
    assert info.value.where == str(tmp_path / "dualpath.toml") and "a, b" in info.value.message


def test_unknown_environment_names_the_config_file(tmp_path: Path) -> None:
    settings = load_settings(_config(tmp_path, b""))
    with pytest.raises(UsageError) as info:
        environment(settings, "staging")
    assert info.value.where == str(tmp_path / "dualpath.toml")


def test_without_a_config_file_the_error_says_none_was_found() -> None:
    with pytest.raises(UsageError) as info:
        resolve_target(load_settings(None), "db", None)
    assert "no dualpath.toml found" in (info.value.where or "")


@pytest.mark.parametrize("url", ["oracle://h/db", "postgresql://u:p@[::1:5432/db", "${DP_FUZZ_UNSET_VAR}"])
def test_bad_target_url_names_file_and_key(tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # was: the value only ("'oracle://h/db' is not a database URL"), not where it was written
    monkeypatch.delenv("DP_FUZZ_UNSET_VAR", raising=False)
    settings = load_settings(_config(tmp_path, f'[targets.db]\nurl = "{url}"\n'.encode()))
    with pytest.raises(UsageError) as info:
        resolve_target(settings, "db", None)
    assert info.value.where == f"{tmp_path / 'dualpath.toml'} [targets.db.url]"


@pytest.mark.parametrize(("table", "key"), [(b"disable = 5", "lint.disable"), (b'fail_on = "loud"', "lint.fail_on"),
                                            (b"fail_on = 3", "lint.fail_on"), (b"disabel = []", "lint.disabel")])
def test_bad_lint_table_names_the_key(tmp_path: Path, table: bytes, key: str) -> None:
    # was: disable = 5 -> "internal error: TypeError"; fail_on = "loud" -> blamed on the --fail-on option
    (tmp_path / "V1__a.sql").write_text("CREATE TABLE t (id int PRIMARY KEY);\n")
    path = _config(tmp_path, b"[lint]\n" + table + b"\n")
    result = CliRunner().invoke(app, ["lint", str(tmp_path / "V1__a.sql"), "--config", str(path)])
    assert result.exit_code == 2 and "internal error" not in result.output
    assert f"setting '{key}'" in result.output and str(path) in result.output


def test_url_with_a_port_that_is_no_number_is_a_usage_error(tmp_path: Path) -> None:
    # was: "internal error: ValueError: invalid literal for int()" from SQLAlchemy's make_url
    result = CliRunner().invoke(app, ["status", "--url", "postgresql://u:secret@[::1:5432/db",
                                      "--migrations", str(tmp_path)])
    assert result.exit_code == 2 and "internal error" not in result.output
    assert "is not a database URL" in result.output and "secret" not in result.output


def test_lint_reports_a_folder_error_once(tmp_path: Path) -> None:
    # was: the folder's error, then the same error again from reading the file on its own
    (tmp_path / "V1__x.sql").write_text("-- dualpath:bogus\nSELECT 1;\n")
    result = CliRunner().invoke(app, ["lint", str(tmp_path), "--format", "json"])
    findings = [f for f in json.loads(result.stdout) if "dualpath:bogus" in f["message"]]
    assert result.exit_code == 1 and len(findings) == 1 and findings[0]["line"] == 1
