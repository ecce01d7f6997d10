"""Lint findings in the format ``dualpath lint --format`` names: text, JSON, SARIF or GitHub annotations."""

from __future__ import annotations

from dualpath.risk.model import Finding

FORMATS = ("text", "json", "sarif", "github")


def render_findings(findings: list[Finding], fmt: str) -> str:
    """``fmt`` is one of FORMATS (anything else reads as text); only the renderer asked for is imported."""
    if fmt == "json":
        from dualpath.render import lint_json as renderer
    elif fmt == "sarif":
        from dualpath.render import sarif as renderer  # type: ignore[no-redef]
    elif fmt == "github":
        from dualpath.render import github as renderer  # type: ignore[no-redef]
    else:
        from dualpath.render import lint_text as renderer  # type: ignore[no-redef]
    return renderer.render(findings)
