"""Standard output whose reader may leave: `dualpath status | head`. Kept apart from console.py so that
the quick entry (entry.py) can use it without loading Typer or Rich."""

from __future__ import annotations

import os
import sys

STDOUT_CLOSED = 141  # what a shell reports for a process that SIGPIPE ended (128 + 13)


def silence_stdout() -> None:
    """The reader of stdout is gone: later output goes nowhere instead of raising again, so that work in
    progress (an apply between two changes) ends as it would have, and its summary reaches the log."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
