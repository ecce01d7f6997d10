"""A change's history and audit rows as plain values and as PostgreSQL's statement, without SQLAlchemy:
the runner (history/write.py) and the plain apply (plain_apply.py) write them from here, alike."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from dualpath.history.actor import Actor, now
from dualpath.history.plain import AUDIT, AUDIT_COLUMNS, HISTORY, WRITTEN_HISTORY_COLUMNS
from dualpath.redaction import redact, scrub


def row_of(**values: Any) -> dict[str, Any]:
    """A row as it may be stored: every text in it through the one redaction (details carry driver
    errors and URLs), so no password reaches a dualpath_* table whoever wrote the detail."""
    return {key: redact(value) if isinstance(value, str) else value for key, value in values.items()}


def json_of(detail: dict[str, Any] | None) -> str | None:
    return json.dumps(scrub(detail)) if detail else None


def record_rows(actor: Actor, *, version: str, description: str, checksum: str, direction: str, duration_ms: int,
                success: bool, detail: dict[str, Any] | None, action: str, ticket: str | None,
                audit_detail: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The history row and the audit row of a change, every text through the one redaction."""
    at = now()
    history = row_of(version=version, description=description[:512], checksum=checksum, direction=direction,
                     applied_at=at, applied_by=actor.who, duration_ms=duration_ms, success=success,
                     run_id=actor.run_id, detail=json_of(detail))
    audit = row_of(at=at, action=action, version=version, run_id=actor.run_id, who=actor.who, host=actor.host,
                   git_commit=actor.git_commit, ticket=ticket, detail=json_of(audit_detail))
    return history, audit


def record_sql(history: dict[str, Any], audit: dict[str, Any], literal: Callable[[Any], str],
               server_elapsed: str = "", returning: str = "") -> str:
    """Both rows in one PostgreSQL statement (a data-modifying CTE), their values as literals (``literal``
    quotes one, the driver's way). ``server_elapsed``: SQL for milliseconds the server spent on what was
    sent in the same message before it, added to ``duration_ms``. ``returning``: what the statement returns
    (SQL after RETURNING), which may name ``history_row.duration_ms``, the duration written."""
    values = {c: literal(history[c]) for c in WRITTEN_HISTORY_COLUMNS}
    if server_elapsed:
        values["duration_ms"] = f"{values['duration_ms']} + {server_elapsed}"
    audit_values = ", ".join(literal(audit[c]) for c in AUDIT_COLUMNS)
    inner, outer = (" RETURNING duration_ms", f" RETURNING {returning}") if returning else ("", "")
    return (f"WITH history_row AS (INSERT INTO {HISTORY} ({', '.join(WRITTEN_HISTORY_COLUMNS)}) "
            f"VALUES ({', '.join(values.values())}){inner}) INSERT INTO {AUDIT} ({', '.join(AUDIT_COLUMNS)}) "
            f"VALUES ({audit_values}){outer}")
