"""Splitting and classifying SQL statements per dialect (pglast for PostgreSQL)."""

from dualpath.sql.kinds import statement_kind
from dualpath.sql.split import split_statements, split_with_directives

__all__ = ["split_statements", "split_with_directives", "statement_kind"]
