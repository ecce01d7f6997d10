"""``apply`` and ``rollback`` as calls, without Typer: the Typer commands (core.py) and the quick entry
(entry.py) run these same functions, so a change applied from either is applied alike (the guard of
protected environments, the backup before drops, the runner)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from dualpath.cli.stdout import silence_stdout, terminal

if TYPE_CHECKING:
    from dualpath.session import Session


def open_command_session(url: str | None, migrations: Path | None, config: Path | None,
                         run_id: str | None = None) -> Session:
    from dualpath.session import open_session

    return open_session(url, migrations, config, echo=echo_line, run_id=run_id)


def echo_line(line: str) -> None:
    """One line of progress: Rich on a terminal; plain and cheap into a pipe or a CI log."""
    try:
        console = terminal()
        if console is not None:
            console.print(line, markup=False, soft_wrap=True)
        else:
            print(line, flush=True)
    except BrokenPipeError:  # `dualpath apply | head`: the reader left; the migration must not stop half-way
        silence_stdout()


def command_text(name: str, to: str | None = None, steps: int | None = None, everything: bool = False) -> str:
    """The command as the audit of a break-glass names it."""
    return (name + (f" --to {to}" if to else "") + (f" --steps {steps}" if steps else "")
            + (" --all" if everything else ""))


def apply_changes(url: str | None, migrations: Path | None, config: Path | None, to: str | None = None, *,
                  dry_run: bool = False, approval: str | None = None, break_glass: str | None = None,
                  run_id: str | None = None) -> None:
    """``dualpath apply``: pending changes up to ``to``, after the guard of protected environments.
    ``run_id``: the run this command began over the driver alone (plain_apply.py), which this one goes on."""
    session = open_command_session(url, migrations, config, run_id)
    if not dry_run:
        session.guard(command_text("apply", to), approval, break_glass)
    session.runner().apply(to=to, dry_run=dry_run)


def roll_back_changes(url: str | None, migrations: Path | None, config: Path | None, to: str | None = None,
                      steps: int | None = None, everything: bool = False, *, dry_run: bool = False,
                      approval: str | None = None, break_glass: str | None = None) -> None:
    """``dualpath rollback``: --to V (keeps V), --steps N or --all, after the guard of protected environments."""
    session = open_command_session(url, migrations, config)
    if not dry_run:
        session.guard(command_text("rollback", to, steps, everything), approval, break_glass)
    session.runner().rollback(to=to, steps=steps, dry_run=dry_run, everything=everything)
