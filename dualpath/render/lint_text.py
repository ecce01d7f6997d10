"""Lint findings as text: ``file:line:col RULE severity message`` and the fix under it."""

from __future__ import annotations

from collections import Counter

from dualpath.risk.model import Finding


def render(findings: list[Finding]) -> str:
    if not findings:
        return "no findings"
    lines = []
    for f in findings:
        lines.append(f"{f.file}:{f.line}:{f.column} {f.rule} {f.severity}: {f.message}")
        if f.fix:
            lines.append(f"    fix: {f.fix}")
    lines.append(summary(findings))
    return "\n".join(lines)


def summary(findings: list[Finding]) -> str:
    counts = Counter(f.severity for f in findings)
    parts = [f"{counts[s]} {s}{'s' if counts[s] != 1 and s != 'info' else ''}"
             for s in ("error", "warning", "info") if counts[s]]
    files = len({f.file for f in findings})
    return f"{len(findings)} finding{'s' if len(findings) != 1 else ''} in {files} file" \
           f"{'s' if files != 1 else ''}: {', '.join(parts)}"
