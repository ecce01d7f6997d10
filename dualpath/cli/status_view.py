"""How ``dualpath status`` shows its states: one function for the Typer command and the quick entry
(entry.py), so both print the same bytes. Rich is loaded only for a terminal (colours); into a pipe
or a CI log the columns are plain text."""

from __future__ import annotations

import json
from collections.abc import Sequence

from dualpath.changes import Change
from dualpath.cli.stdout import terminal
from dualpath.redaction import shown_target
from dualpath.status import ChangeState

STATE_COLORS = {"applied": "green", "pending": "yellow", "failed": "red", "drifted": "magenta", "missing": "red",
                "unrecorded": "red", "unknown": "red"}
HEAD = ("version", "description", "state", "applied at", "file")


def show_status(label: str, layout: str, changes: Sequence[Change], states: Sequence[ChangeState],
                missing_policy: str, format: str) -> None:
    """The states as JSON or as aligned columns, then every change without a way back."""
    if format == "json":
        print(json.dumps([s.as_json() for s in states], indent=2))
        return
    rows = [(s.version, s.description, s.state, str(s.applied_at or ""), s.where) for s in states]
    print_columns(f"{shown_target(label)} ({layout})", HEAD, rows, colored=2)
    if any(c.forward and not c.rollback for c in changes):  # else there is nothing to report
        from dualpath.sources import way_back_report

        print_lines(way_back_report(list(changes), missing_policy))


def print_columns(title: str, head: tuple[str, ...], rows: Sequence[tuple[str, ...]], colored: int) -> None:
    """Aligned columns under a title; on a terminal, column ``colored`` (the state) in its color. Rich's
    Table measured every cell of every row: 500 changes took longer to draw than to read from the server."""
    widths = [max([len(h), *(len(r[k]) for r in rows)]) for k, h in enumerate(head)]

    def cells(row: tuple[str, ...], first: int, last: int) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(row[first:last], widths[first:last], strict=True))

    console = terminal()
    if console is None:
        print("\n".join([title, *(cells(r, 0, len(head)).rstrip() for r in (head, *rows))]), flush=True)
        return
    from rich.text import Text

    text = Text(f"{title}\n")
    text.append(cells(head, 0, len(head)).rstrip() + "\n", style="bold")
    for row in rows:
        text.append(cells(row, 0, colored) + "  ")
        text.append(row[colored].ljust(widths[colored]), style=STATE_COLORS.get(row[colored]))
        text.append(("  " + cells(row, colored + 1, len(head))).rstrip() + "\n")
    console.print(text, soft_wrap=True, end="")


def print_lines(lines: Sequence[str]) -> None:
    """Lines as they are (no markup), through Rich only on a terminal."""
    console = terminal()
    for line in lines:
        if console is None:
            print(line, flush=True)
        else:
            console.print(line, markup=False, soft_wrap=True)
