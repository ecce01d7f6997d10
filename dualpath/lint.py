"""``dualpath lint`` as a function: the findings of ``risk.lint``, rendered by ``render.findings``, and the exit code.

It sits above both packages so that the rules never import the renderers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from dualpath.errors import DualpathError, UsageError
from dualpath.render.findings import FORMATS, render_findings
from dualpath.risk.catalogue import Version
from dualpath.risk.lint import FAIL_ON, RUNNERS, exit_code, lint_paths


def run_lint(paths: list[Path], *, dialect: str = "postgresql", version: Version | None = None,
             url: str | None = None, fmt: str = "text", fail_on: str = "error",
             disabled: set[str] | frozenset[str] = frozenset(), runner: str = "dualpath",
             pii_columns: Sequence[str] = (), echo: Callable[[str], None] = lambda _: None) -> tuple[str, int]:
    """Output and exit code of ``dualpath lint``: 0 clean, 1 findings at or above ``fail_on``, 2 bad input."""
    try:
        _check_choice("--format", fmt, FORMATS)
        _check_choice("--fail-on", fail_on, FAIL_ON)
        _check_choice("--runner", runner, RUNNERS)
        findings = lint_paths(paths, dialect=dialect, version=version, url=url, disabled=disabled, runner=runner,
                              pii_columns=pii_columns, echo=echo)
    except DualpathError as exc:
        return str(exc), exc.exit_code
    return render_findings(findings, fmt), exit_code(findings, fail_on)


def _check_choice(option: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise UsageError(f"{option} {value!r} is not one of: {', '.join(choices)}",
                         hint=f"e.g. {option} {choices[0]}")
