"""The `dualpath` console entry point. ``dualpath status`` in its plain forms is answered here before
Typer, Rich and SQLAlchemy load (a tenth of a second of a status that should take a few): the folder
from its cache, the history over the driver alone (quick_status.py), shown by status_view.py.
``dualpath apply`` and ``rollback`` in their plain forms (no --dry-run, --approval or --break-glass) are
run here without Typer (building its command line was a quarter of a second of every run): the same
calls as the Typer commands (runs.py), their failures told as the Typer commands tell them (failures.py);
an apply in the plain case is run over the driver alone, without SQLAlchemy (plain_apply.py).
Every other command, any option these readers do not know (``--help`` included), and any state the
quick status declines or any error it meets go to the Typer app (core.py), which answers, or explains,
as always.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

_STATUS_OPTIONS = ("--url", "--migrations", "--config", "--format")
_APPLY_OPTIONS = ("--url", "--migrations", "--config", "--to")
_ROLLBACK_OPTIONS = (*_APPLY_OPTIONS, "--steps")
_ROLLBACK_FLAGS = ("--all",)


def main() -> None:  # pragma: no cover - the console script; tests run it in a subprocess
    code = quick_status_command(sys.argv[1:])
    if code is None:
        code = quick_run_command(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    from dualpath.cli.core import main as run_app

    run_app()


def quick_status_command(args: Sequence[str]) -> int | None:
    """``status`` answered without Typer: its exit code, or None when the Typer app must answer."""
    options = read_status_args(args)
    if options is None or options.get("--format", "text") not in ("text", "json"):
        return None
    try:
        from dualpath.defaults import quick_settings
        from dualpath.quick_status import quick_states

        config = options.get("--config")
        settings = quick_settings(Path(config) if config else None)  # pydantic only for a dualpath.toml
        migrations = options.get("--migrations")
        quick = quick_states(settings, options.get("--url"), Path(migrations) if migrations else None)
    except Exception:  # noqa: BLE001 - the usual path meets it again and tells it with its hint
        return None
    if quick is None:
        return None
    from dualpath.cli.status_view import show_status
    from dualpath.cli.stdout import STDOUT_CLOSED, silence_stdout

    try:
        show_status(quick.label, quick.layout, quick.changes, quick.states, settings.missing_rollbacks,
                    options.get("--format", "text"))
    except BrokenPipeError:  # `dualpath status | head`: the reader has what it wanted
        silence_stdout()
        return STDOUT_CLOSED
    return 0


def quick_run_command(args: Sequence[str]) -> int | None:
    """``apply`` or ``rollback`` run without Typer: its exit code, or None when the Typer app must answer."""
    options = read_run_args(args)
    if options is None:
        return None
    from dualpath.changes_cache import reading_once
    from dualpath.cli.failures import report_failure
    from dualpath.cli.runs import apply_changes, roll_back_changes

    def path(name: str) -> Path | None:
        return Path(options[name]) if name in options else None

    url, migrations, config, to = options.get("--url"), path("--migrations"), path("--config"), options.get("--to")
    try:
        with reading_once():  # the quick check and the run read the folder once
            if args[0] == "apply":
                from dualpath.history.actor import new_run_id

                run_id = new_run_id()  # one command, one run, whichever path applies its changes
                if to is None and _apply_plainly(url, migrations, config, run_id):
                    return 0
                apply_changes(url, migrations, config, to, run_id=run_id)
            else:
                steps = int(options["--steps"]) if "--steps" in options else None
                roll_back_changes(url, migrations, config, to, steps, "--all" in options)
    except (Exception, KeyboardInterrupt) as exc:
        code = report_failure(exc)
        if code is None:
            raise
        return code
    return 0


def _apply_plainly(url: str | None, migrations: Path | None, config: Path | None, run_id: str) -> bool:
    """The apply run over the driver alone (plain_apply.py): True when it is done; False when the usual
    path must run, from where this one stopped (any doubt, any error: it meets the error again and tells
    it with its hint)."""
    from dualpath.cli.runs import echo_line
    from dualpath.defaults import quick_settings
    from dualpath.plain_apply import apply_plainly

    try:
        return apply_plainly(quick_settings(config), url, migrations, echo_line, run_id)
    except Exception:  # noqa: BLE001 - see the docstring
        return False


def read_status_args(args: Sequence[str]) -> dict[str, str] | None:
    """``status [--url U] [--migrations M] [--config C] [--format F]`` (each at most once, ``--opt=value``
    or ``--opt value``) as a dict; None for anything else, which the Typer app parses and explains."""
    return _read_args(args, "status", _STATUS_OPTIONS)


def read_run_args(args: Sequence[str]) -> dict[str, str] | None:
    """``apply [--url U] [--migrations M] [--config C] [--to V]`` and ``rollback`` with the same and
    ``--steps N`` (digits) and ``--all``, each at most once, as a dict (``--all``: ""); None for anything
    else (``--dry-run``, ``--approval``, ``--help``, ...), which the Typer app runs or explains."""
    if not args or args[0] not in ("apply", "rollback"):
        return None
    if args[0] == "apply":
        return _read_args(args, "apply", _APPLY_OPTIONS)
    options = _read_args(args, "rollback", _ROLLBACK_OPTIONS, _ROLLBACK_FLAGS)
    if options is None or not options.get("--steps", "0").isascii() or not options.get("--steps", "0").isdigit():
        return None  # Typer reads other numbers (and says what is wrong with them)
    return options


def _read_args(args: Sequence[str], command: str, names: tuple[str, ...],
               flags: tuple[str, ...] = ()) -> dict[str, str] | None:
    if not args or args[0] != command:
        return None
    options: dict[str, str] = {}
    rest = list(args[1:])
    while rest:
        word = rest.pop(0)
        if word in flags and word not in options:
            options[word] = ""
            continue
        name, equals, value = word.partition("=")
        if name not in names or name in options:
            return None
        if not equals:
            if not rest or rest[0].startswith("-"):
                return None  # a missing value: Typer says so
            value = rest.pop(0)
        if not value:
            return None  # Typer reads an empty value in its own way (an empty path is the current folder)
        options[name] = value
    return options
