"""Approvals a tenant keeps: the audit row of who approved, and an approval a flow already recorded."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from dualpath import history
from dualpath.apply import Runner

if TYPE_CHECKING:

    pass





def approval_from_flow(runner: Runner, run_id: str, max_age_s: int) -> dict[str, Any] | None:
    """The approval the migrate flow run ``run_id`` recorded in this target's audit trail, if recent."""
    from datetime import timedelta

    with runner.engine.connect() as conn:
        rows = history.audit_rows(conn)
        conn.rollback()
    found = [r for r in rows if r["action"] == "approval" and r["run_id"] == run_id]
    if not found:
        return None
    row = found[-1]
    if history.now() - row["at"] > timedelta(seconds=max_age_s):
        return None
    return {"who": row["who"], "at": str(row["at"]), "ticket": row["ticket"],
            **(json.loads(row["detail"]) if row["detail"] else {})}


def record_approval(runner: Runner, approval: dict[str, str], action: str = "approval") -> None:
    """The approval (or, ``action="rejection"``, the refusal) lands in each tenant's own audit trail,
    next to the changes it allowed or stopped."""
    runner.engine.ensure_exists()
    with runner.engine.connect() as conn, conn.begin():
        history.ensure_tables(conn)
        history.audit(conn, runner.actor, action, ticket=approval.get("ticket") or None,
                      detail={k: v for k, v in approval.items() if v})
