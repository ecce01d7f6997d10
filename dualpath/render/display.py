"""How the documents show places and durations: paths relative to the migrations folder, the target as
the user wrote it (no driver suffix, no password), and one duration format (``estimates.human_seconds``)."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

from dualpath.estimates import human_seconds
from dualpath.redaction import shown_target

__all__ = ["duration", "localise", "relative_to", "shown_target"]

duration = human_seconds  # the one duration format of every document


def relative_to(text: str, roots: list[Path]) -> str:
    """``text`` with each absolute ``root/`` prefix removed: ``/home/x/db/migrations/V7.sql:5`` -> ``V7.sql:5``.
    The longest root first, so the migrations folder wins over the project folder that holds it."""
    for root in sorted({str(r.resolve()) for r in roots} | {str(r) for r in roots}, key=len, reverse=True):
        if root not in ("", "/"):
            text = text.replace(root.rstrip("/") + "/", "")
    return text


def localise(value: Any, roots: list[Path]) -> Any:
    """Every string inside a document (dataclasses, lists, tuples) made relative to ``roots``, in place
    for dataclasses; what it returns replaces plain strings and sequences."""
    if isinstance(value, str):
        return relative_to(value, roots)
    if isinstance(value, list):
        value[:] = [localise(v, roots) for v in value]
        return value
    if isinstance(value, tuple):
        return tuple(localise(v, roots) for v in value)
    if is_dataclass(value) and not isinstance(value, type):
        for f in fields(value):
            setattr(value, f.name, localise(getattr(value, f.name), roots))
    return value
