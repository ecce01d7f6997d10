"""The console entry's readers of `dualpath status`, `apply` and `rollback` arguments (dualpath/cli/entry.py):
the plain forms are read, anything else is left to the Typer app (which parses and explains it)."""

from __future__ import annotations

import pytest

from dualpath.cli.entry import read_run_args, read_status_args


@pytest.mark.parametrize(("args", "expected"), [
    (["status"], {}),
    (["status", "--url", "db", "--format=json"], {"--url": "db", "--format": "json"}),
    (["status", "--migrations=m", "--config", "c.toml"], {"--migrations": "m", "--config": "c.toml"}),
    (["status", "--url=postgresql://u:p@h/d?options=-csearch_path%3Dx"],
     {"--url": "postgresql://u:p@h/d?options=-csearch_path%3Dx"}),
])
def test_plain_status_arguments_are_read(args: list[str], expected: dict[str, str]) -> None:
    assert read_status_args(args) == expected


@pytest.mark.parametrize("args", [
    [], ["apply"], ["lint", "status"], ["status", "--help"], ["status", "-h"], ["status", "--url"],
    ["status", "--url", "--format", "json"], ["status", "--url", "a", "--url", "b"], ["status", "extra"],
    ["status", "--verbose"], ["status", "--url=a", "--"],
])
def test_anything_else_is_left_to_the_app(args: list[str]) -> None:
    assert read_status_args(args) is None


@pytest.mark.parametrize(("args", "expected"), [
    (["apply"], {}),
    (["apply", "--url", "db", "--to=3", "--migrations", "m", "--config", "c.toml"],
     {"--url": "db", "--to": "3", "--migrations": "m", "--config": "c.toml"}),
    (["rollback", "--all", "--url=db"], {"--all": "", "--url": "db"}),
    (["rollback", "--steps", "2", "--to", "1"], {"--steps": "2", "--to": "1"}),
])
def test_plain_apply_and_rollback_arguments_are_read(args: list[str], expected: dict[str, str]) -> None:
    assert read_run_args(args) == expected


@pytest.mark.parametrize("args", [
    [], ["status"], ["lint", "apply"], ["apply", "--dry-run"], ["apply", "--help"], ["apply", "--approval", "r"],
    ["apply", "--break-glass", "why"], ["apply", "--all"], ["apply", "--steps", "1"], ["apply", "--to"],
    ["apply", "--to", "1", "--to", "2"], ["apply", "--url="], ["apply", "extra"], ["rollback", "--all", "--all"],
    ["rollback", "--all=yes"], ["rollback", "--steps", "x"], ["rollback", "--steps", "-1"], ["rollback", "--steps=²"],
    ["rollback", "--dry-run", "--all"],
])
def test_other_apply_and_rollback_forms_are_left_to_the_app(args: list[str]) -> None:
    assert read_run_args(args) is None
