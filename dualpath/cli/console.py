"""What every command shares: consoles, common options, and the one place errors are caught.

Errors are printed for people (no traceback); exit codes follow the design: 0 ok,
1 findings/verification, 2 usage or input, 3 refused, 4 failed and rolled back.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from dualpath.cli.failures import report_failure
from dualpath.cli.stdout import err, out

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
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise  # the command chose its exit code, or Typer explains bad usage itself (BadParameter: exit 2)
        except (Exception, KeyboardInterrupt) as exc:
            code = report_failure(exc)  # told as the quick entry (entry.py) tells it
            if code is None:
                raise
            raise typer.Exit(code) from None

    return wrapper  # type: ignore[return-value]


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
