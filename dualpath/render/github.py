"""Lint findings as GitHub Actions workflow commands (annotations on the pull request)."""

from __future__ import annotations

from dualpath.risk.model import Finding

_LEVEL = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def render(findings: list[Finding]) -> str:
    lines = []
    for f in findings:
        props = ",".join([f"file={escape_property(f.file)}", f"line={f.line}", f"col={f.column}",
                          f"title={escape_property(f'{f.rule} {f.title}'.strip())}"])
        body = f"{f.rule}: {f.message}" + (f"\nfix: {f.fix}" if f.fix else "")
        lines.append(f"::{_LEVEL[f.severity]} {props}::{escape_data(body)}")
    return "\n".join(lines)
