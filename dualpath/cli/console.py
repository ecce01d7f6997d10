"""What every command shares: consoles, common options, and the one place errors are caught.

Errors are printed for people (no traceback); exit codes follow the design: 0 ok,
1 findings/verification, 2 usage or input, 3 refused, 4 failed and rolled back.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from dualpath.cli.stdout import STDOUT_CLOSED, err, out, silence_stdout
from dualpath.errors import DualpathError
from dualpath.hints import refusal_hint
from dualpath.redaction import redact

__all__ = ["out", "err", "handle_errors", "ask_approval", "UrlOpt", "MigrationsOpt", "ConfigOpt"]

F = TypeVar("F", bound=Callable[..., Any])

UrlOpt = Annotated[str | None, typer.Option("--url", help="database URL or a target name from dualpath.toml")]
MigrationsOpt = Annotated[Path | None, typer.Option("--migrations", help="migrations folder (default: configured)")]
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="dualpath.toml to use")]


def handle_errors(func: F) -> F:
    """Turn dualpath's errors into a clear message and the documented exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except DualpathError as exc:
            from rich.markup import escape

            err.print(f"[bold red]error:[/] {escape(redact(str(exc)))}", markup=True, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise  # the command chose its exit code, or Typer explains bad usage itself (BadParameter: exit 2)
        except BrokenPipeError:  # `dualpath status | head`: the reader has what it wanted
            silence_stdout()
            raise typer.Exit(STDOUT_CLOSED) from None
        except KeyboardInterrupt:
            err.print("interrupted: transactional changes in flight were rolled back by the server")
            raise typer.Exit(130) from None
        except Exception as exc:  # a bug of ours: still no traceback unless asked for
            if os.environ.get("DUALPATH_DEBUG"):
                raise
            from rich.markup import escape

            refused = _server_refusal(exc)
            if refused is not None:  # the server's refusal, not our bug: say what was refused and what to do
                kind, words = refused
                statement = " ".join(str(getattr(exc, "statement", "") or "").split())[:200]
                err.print(f"[bold red]error:[/] the database refused: {escape(redact(words))}"
                          + (f"\n  while running: {escape(redact(statement))}" if statement else "")
                          + f"\n  next: {escape(refusal_hint(kind))}", soft_wrap=True)
                raise typer.Exit(2 if kind in ("permission", "statement_timeout", "auth") else 3) from None
            err.print(f"[bold red]internal error:[/] {escape(redact(f'{type(exc).__name__}: {exc}'))}\n"
                      "  next: rerun with DUALPATH_DEBUG=1 for the traceback and report it", soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper  # type: ignore[return-value]


def _server_refusal(exc: BaseException) -> tuple[str, str] | None:
    from dualpath.engines import server_refusal

    return server_refusal(exc)


def ask_approval(plan: str, *, approver: str = "", ticket: str = "") -> dict[str, Any]:
    """The approval form at the terminal. No terminal, or Ctrl-D, is a rejection: nothing changes."""
    import sys

    out.print(plan, markup=False, soft_wrap=True)
    if not sys.stdin.isatty():
        err.print("no terminal to ask for the approval: the run is rejected and nothing changes "
                  "(pass --approve to approve it)")
        return {"decision": "reject", "approver": approver or "nobody", "ticket": ticket,
                "comment": "rejected: no terminal to ask"}
    try:
        yes = typer.confirm("approve this run?", default=False)
        who = typer.prompt("your name", default=approver or None)
        ticket = typer.prompt("ticket", default=ticket)
        comment = typer.prompt("comment", default="")
    except typer.Abort:
        return {"decision": "reject", "approver": approver or "nobody", "ticket": ticket,
                "comment": "rejected: the prompt was closed"}
    return {"decision": "approve" if yes else "reject", "approver": who, "ticket": ticket, "comment": comment}
