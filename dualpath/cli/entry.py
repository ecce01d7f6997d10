"""The `dualpath` console entry point. ``dualpath status`` in its plain forms is answered here before
Typer, Rich and SQLAlchemy load (a tenth of a second of a status that should take a few): the folder
from its cache, the history over the driver alone (quick_status.py), shown by status_view.py. Every
other command, any option this reader does not know (``--help`` included), and any state the quick
path declines or any error it meets go to the Typer app (core.py), which answers, or explains, as always.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

_STATUS_OPTIONS = ("--url", "--migrations", "--config", "--format")


def main() -> None:  # pragma: no cover - the console script; tests run it in a subprocess
    code = quick_status_command(sys.argv[1:])
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
        from dualpath.config import find_config, load_settings
        from dualpath.quick_status import quick_states

        config = options.get("--config")
        settings = load_settings(find_config(Path(config) if config else None))
        migrations = options.get("--migrations")
        quick = quick_states(settings, options.get("--url"), Path(migrations) if migrations else None)
    except Exception:  # noqa: BLE001 - the usual path meets it again and tells it with its hint
        return None
    if quick is None:
        return None
    from dualpath.cli.status_view import show_status
    from dualpath.cli.stdout import STDOUT_CLOSED, silence_stdout

    try:
        show_status(quick.label, quick.layout, quick.changes, quick.states, settings.rollback.missing,
                    options.get("--format", "text"))
    except BrokenPipeError:  # `dualpath status | head`: the reader has what it wanted
        silence_stdout()
        return STDOUT_CLOSED
    return 0


def read_status_args(args: Sequence[str]) -> dict[str, str] | None:
    """``status [--url U] [--migrations M] [--config C] [--format F]`` (each at most once, ``--opt=value``
    or ``--opt value``) as a dict; None for anything else, which the Typer app parses and explains."""
    if not args or args[0] != "status":
        return None
    options: dict[str, str] = {}
    rest = list(args[1:])
    while rest:
        word = rest.pop(0)
        name, equals, value = word.partition("=")
        if name not in _STATUS_OPTIONS or name in options:
            return None
        if not equals:
            if not rest or rest[0].startswith("-"):
                return None  # a missing value: Typer says so
            value = rest.pop(0)
        options[name] = value
    return options
