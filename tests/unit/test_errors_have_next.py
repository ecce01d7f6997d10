"""Every error dualpath raises for people carries a `next:` line: checked on the source, so a new raise
without a hint fails here rather than in front of an operator."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ERRORS = {"DualpathError", "InputError", "UsageError", "ConnectionFailed", "TargetRefused", "RunFailed",
          "LockTimeout", "VerificationFailed", "BackupFailed", "BatchCancelled"}


def raised_without_hint() -> list[str]:
    found = []
    for folder in ("dualpath", "flows", "tasks"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ERRORS
                        and not any(k.arg == "hint" for k in node.keywords)):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.func.id}")
    return found


def test_every_error_says_what_to_do_next() -> None:
    assert raised_without_hint() == []


def test_user_facing_text_has_no_known_misspellings() -> None:
    misspelt = ("canceld", "cancelld", "occured", "recieve", "seperat", "succesful", "existant", "the the ")
    hits = [f"{path.relative_to(ROOT)}: {word}"
            for folder in ("dualpath", "flows", "tasks", "docs")
            for path in (ROOT / folder).rglob("*") if path.suffix in (".py", ".md", ".j2", ".html", ".txt")
            for word in misspelt if word in path.read_text(encoding="utf-8").lower()]
    assert hits == []
