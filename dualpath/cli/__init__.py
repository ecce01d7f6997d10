"""The `dualpath` command line: each command a few lines over the core.

entry.py is the console script (a plain ``status`` answered before Typer loads), core.py holds the
core commands (detect, status, apply, rollback, repair, demo, ...), commands/ the topic commands (lint,
plan, backup, run, ...; discovered, one module per topic), console.py what they share (options, errors
without tracebacks, the Rich console). ``app`` and ``main`` load on first use, so that importing
``dualpath.cli.entry`` does not load Typer.
"""

from __future__ import annotations

from typing import Any

__all__ = ["app", "main"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from dualpath.cli import core

        return getattr(core, name)
    raise AttributeError(f"module 'dualpath.cli' has no attribute {name!r}")
