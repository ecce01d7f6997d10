"""What a ``-- dualpath:batch`` directive asks for, with defaults, as one typed value."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from dualpath.changes import Statement, statement_directives

DEFAULT_SIZE = 1000
DEFAULT_TARGET_MS = 200
DEFAULT_MAX_LAG_MS = 1000
REPLICAS_ENV = "DUALPATH_REPLICA_URLS"  # comma-separated URLs of replicas to watch (MySQL/MariaDB)


@dataclass(frozen=True)
class BatchSpec:
    table: str
    key: tuple[str, ...]
    size: int = DEFAULT_SIZE  # rows in the first chunk; later chunks adapt to target_ms
    pause_ms: int = 0  # sleep between chunks, to leave room to other writers
    target_ms: int = DEFAULT_TARGET_MS
    max_rows_per_s: int = 0  # 0 = no limit
    max_lag_ms: int = DEFAULT_MAX_LAG_MS  # wait while a replica lags more than this
    where: str = ""  # the directive's file:line, which errors about table= and key= name

    @property
    def max_size(self) -> int:
        return max(self.size * 10, 10_000)


def is_batched(statement: Statement) -> bool:
    return statement.directive("batch") is not None


def has_batches(statements: Sequence[Statement]) -> bool:
    return any(d.name == "batch" for d in statement_directives(statements))


def spec_of(statement: Statement) -> BatchSpec:
    """The directive's arguments; directives.py has already checked their form."""
    directive = statement.directive("batch")
    assert directive is not None, "spec_of needs a batched statement"
    args = directive.args

    def number(name: str, default: int) -> int:
        return int(args[name]) if args.get(name) else default

    return BatchSpec(
        table=args["table"], key=tuple(k.strip() for k in args["key"].split(",") if k.strip()),
        size=max(1, number("size", DEFAULT_SIZE)), pause_ms=number("pause_ms", 0),
        target_ms=max(1, number("target_ms", DEFAULT_TARGET_MS)), max_rows_per_s=number("max_rows_per_s", 0),
        max_lag_ms=number("max_lag_ms", DEFAULT_MAX_LAG_MS), where=directive.where)


def replica_urls() -> list[str]:
    return [u.strip() for u in os.environ.get(REPLICAS_ENV, "").split(",") if u.strip()]
