"""The `dualpath` command line: each command a few lines over the core.

core.py holds the core commands (detect, status, apply, rollback, repair, demo, ...), commands/ the topic
commands (lint, plan, backup, run, ...; discovered, one module per topic), console.py what they share
(options, errors without tracebacks, the Rich console).
"""

from dualpath.cli.core import app, main

__all__ = ["app", "main"]
