"""What every part of a run shares: its summary, its id, the failure of an unrecorded statement, small helpers."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.exc import DBAPIError

from dualpath.changes import Change
from dualpath.errors import RunFailed
from dualpath.urls import redact

Echo = Callable[[str], None]


Protect = Callable[[list[Change], str], None]  # (changes about to run, "up"|"down")


START = "start"  # `rollback --to start`: before the first change, the same as `--all`


@dataclass
class RunSummary:
    run_id: str
    done: list[tuple[str, str, int]] = field(default_factory=list)  # (version, direction, ms)
    dry_run: bool = False


class StatementUnrecorded(RunFailed):
    """A statement that commits alone ran, and writing what follows it (its done row, the change's history
    row) failed: its journal row stays "started", so the next run settles it like one cut short by a kill."""

    def __init__(self, cause: DBAPIError, message: str, *, where: str, hint: str) -> None:
        super().__init__(message, where=where, hint=hint)
        self.cause = cause


# PREPARE and DEALLOCATE PREPARE neither commit nor change the schema (session state only), as SELECT does
# not; nor does a SET of user variables (Engine.sets_user_variables_only). A real folder's `SET @s = (SELECT
# IF(...)); PREPARE p FROM @s; EXECUTE p; DEALLOCATE PREPARE p` took a whole-schema digest for each of the
# four; now only EXECUTE, which may run DDL, takes one.
_DML = re.compile(r"^\s*(?:--[^\n]*\n\s*|/\*.*?\*/\s*)*(insert|update|delete|replace|select|with|do|prepare|"
                  r"deallocate\s+prepare)\b", re.IGNORECASE | re.DOTALL)


def is_transactional_dml(sql: str) -> bool:
    """Statements that commit only with their transaction (InnoDB), so with their journal row too."""
    return _DML.match(sql) is not None


def connection_lost(exc: DBAPIError) -> bool:
    return bool(getattr(exc, "connection_invalidated", False))


def ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def message_of(exc: DBAPIError) -> str:
    text = str(exc.orig) if exc.orig is not None else str(exc)
    return redact(text.strip().splitlines()[0] if text.strip() else type(exc).__name__)
