"""How a command's failure is told: a message for people (no traceback) and the documented exit code.
Nothing here imports Typer, so the Typer commands (console.py ``handle_errors``) and the quick entry
(entry.py) tell every failure alike: 1 findings/verification, 2 usage or input, 3 refused, 4 failed
and rolled back, 130 interrupted, 141 stdout closed."""

from __future__ import annotations

import os

from dualpath.cli.stdout import STDOUT_CLOSED, err, silence_stdout
from dualpath.errors import DualpathError
from dualpath.hints import refusal_hint
from dualpath.redaction import redact


def report_failure(exc: BaseException) -> int | None:
    """Tell ``exc`` on stderr and return the exit code; None when it is to be raised as it is (a bug of
    ours under DUALPATH_DEBUG=1, for its traceback)."""
    from rich.markup import escape

    if isinstance(exc, DualpathError):
        err.print(f"[bold red]error:[/] {escape(redact(str(exc)))}", markup=True, soft_wrap=True)
        return exc.exit_code
    if isinstance(exc, BrokenPipeError):  # `dualpath status | head`: the reader has what it wanted
        silence_stdout()
        return STDOUT_CLOSED
    if isinstance(exc, KeyboardInterrupt):
        err.print("interrupted: transactional changes in flight were rolled back by the server")
        return 130
    if not isinstance(exc, Exception) or os.environ.get("DUALPATH_DEBUG"):
        return None  # a bug of ours: still no traceback unless asked for
    refused = _server_refusal(exc)
    if refused is not None:  # the server's refusal, not our bug: say what was refused and what to do
        kind, words = refused
        statement = " ".join(str(getattr(exc, "statement", "") or "").split())[:200]
        err.print(f"[bold red]error:[/] the database refused: {escape(redact(words))}"
                  + (f"\n  while running: {escape(redact(statement))}" if statement else "")
                  + f"\n  next: {escape(refusal_hint(kind))}", soft_wrap=True)
        return 2 if kind in ("permission", "statement_timeout", "auth") else 3
    err.print(f"[bold red]internal error:[/] {escape(redact(f'{type(exc).__name__}: {exc}'))}\n"
              "  next: rerun with DUALPATH_DEBUG=1 for the traceback and report it", soft_wrap=True)
    return 2


def _server_refusal(exc: BaseException) -> tuple[str, str] | None:
    from dualpath.engines import server_refusal

    return server_refusal(exc)
