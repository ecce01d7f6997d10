"""The console entry's reader of `dualpath status` arguments (dualpath/cli/entry.py): the plain forms are
read, anything else is left to the Typer app (which parses and explains it)."""

from __future__ import annotations

import pytest

from dualpath.cli.entry import read_status_args


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
