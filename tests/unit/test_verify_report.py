"""`dualpath verify`'s text report prints the user's text as written: '[x]' is not Rich markup."""

from __future__ import annotations

import pytest
from rich.console import Console

from dualpath.cli.commands import verify as command
from dualpath.cli.commands.verify import print_report
from dualpath.risk.model import Measured
from dualpath.verify import ChangeResult, Verification


def _printed(report: Verification, monkeypatch: pytest.MonkeyPatch, colour: bool = False) -> str:
    console = Console(highlight=False, width=200, force_terminal=colour, color_system="standard" if colour else None)
    monkeypatch.setattr(command, "out", console)
    with console.capture() as captured:
        print_report(report)
    return captured.get()


def test_square_brackets_in_names_reasons_and_tables_are_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    measured = Measured(version="2", where="m/[b]/2.sql:1", table="[odd]", operation="update",
                        predicted_lock="[lock]", predicted_rewrite=False, measured_lock="[held]", rewritten=False,
                        stronger=True)
    report = Verification(target="sqlite:///x.db", engine="sqlite", lock_note="[note]", results=[
        ChangeResult("1", "add [x] column", "m/1.sql:1", skipped_down="drops [legacy] data"),
        ChangeResult("2", "seed [bold]", "m/[b]/2.sql:1", no_rollback="not harmless", leaves=["table [u]"],
                     measured=[measured]),
    ])
    text = _printed(report, monkeypatch)
    assert "1 add [x] column: round trip ok (up only: drops [legacy] data)" in text
    assert "2 seed [bold]: round trip ok (no rollback: not harmless: leaves table [u])" in text
    for cell in ("lock rehearsal ([note])", "m/[b]/2.sql:1", "[odd]", "[lock]", "[held]"):
        assert cell in text


def test_the_report_still_colours_its_own_words(monkeypatch: pytest.MonkeyPatch) -> None:
    report = Verification(target="t", engine="sqlite", results=[ChangeResult("1", "a [red]b", "f:1")])
    coloured = _printed(report, monkeypatch, colour=True)
    assert "\x1b[32mround trip ok" in coloured and "1 a [red]b:" in coloured


def test_the_flow_report_says_what_a_change_without_a_rollback_leaves() -> None:
    from dualpath.rollout import verification_markdown

    report = Verification(target="t", engine="sqlite", results=[
        ChangeResult("1", "seed", "f:1", no_rollback="harmless"),
        ChangeResult("2", "u", "f:2", no_rollback="not harmless", leaves=["table u"])])
    text = verification_markdown("acme", report.as_dict())
    assert "| 1 | seed | ok (no rollback: harmless) |" in text
    assert "| 2 | u | ok (no rollback: not harmless: leaves table u) |" in text
