"""Splitting and classifying SQL statements per dialect (pglast for PostgreSQL).

The splitters load on first use: a command that runs changes read from the folder cache (apply,
rollback) classifies statements (kinds.py) but never splits one, and need not import pglast."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dualpath.sql.kinds import statement_kind

if TYPE_CHECKING:
    from dualpath.sql.split import split_statements, split_with_directives

__all__ = ["split_statements", "split_with_directives", "statement_kind"]


def __getattr__(name: str) -> Any:
    if name in ("split_statements", "split_with_directives"):
        from dualpath.sql import split

        return getattr(split, name)
    raise AttributeError(f"module 'dualpath.sql' has no attribute {name!r}")
