"""The command line's standard streams: Rich consoles made on first use (a command whose output goes to a
pipe or a CI log never loads Rich: its import was a tenth of a short command), whether stdout is a
terminal without loading Rich to ask, and a stdout whose reader left (`dualpath status | head`).
Nothing here imports Typer, so the quick entry (entry.py) can use it."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from rich.console import Console

STDOUT_CLOSED = 141  # what a shell reports for a process that SIGPIPE ended (128 + 13)


class _LazyConsole:
    """A ``rich.console.Console(highlight=False)`` made when first used."""

    def __init__(self, stderr: bool) -> None:
        self._stderr = stderr
        self._console: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=self._stderr, highlight=False)
        return getattr(self._console, name)


out = cast("Console", _LazyConsole(stderr=False))
err = cast("Console", _LazyConsole(stderr=True))


def terminal() -> Console | None:
    """``out`` when stdout is a terminal (Rich decides: FORCE_COLOR, TTY_COMPATIBLE, ...), else None; Rich
    is loaded only when the answer may be yes."""
    if "rich.console" not in sys.modules and not _may_be_terminal():
        return None
    return out if out.is_terminal else None


def _may_be_terminal() -> bool:
    if os.environ.get("FORCE_COLOR") or os.environ.get("TTY_COMPATIBLE"):
        return True
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):
        return False


def silence_stdout() -> None:
    """The reader of stdout is gone: later output goes nowhere instead of raising again, so that work in
    progress (an apply between two changes) ends as it would have, and its summary reaches the log."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
