"""Post-migration report from the run records (dualpath_history, dualpath_audit) and the plan's estimates."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, inspect, select

from dualpath import history
from dualpath.estimates import human_seconds
from dualpath.plan import Plan
from dualpath.render.document import Document, Section, Table


@dataclass
class RunRecords:
    history: list[dict[str, Any]] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)


def read_records(conn: Connection) -> RunRecords:
    """Every history and audit row of the target, oldest first; none when dualpath never ran there."""
    if not inspect(conn).has_table(history.history_table.name):
        return RunRecords()
    rows = [dict(r) for r in conn.execute(select(history.history_table).order_by(history.history_table.c.id))
            .mappings()]
    return RunRecords(rows, history.audit_rows(conn))


def report(plan: Plan, records: RunRecords, estimates: Plan | None = None) -> Document:
    """``estimates``: a plan over the recorded versions, to compare real durations with the estimates."""
    if not records.history:
        return Document("report", "Post-migration report", f"no run recorded on {plan.target} yet",
                        [("Runs", "0")], [Section("No run yet", text=[
                            "This report fills in from dualpath_history and dualpath_audit once a run exists: "
                            "run the migration, then `dualpath docs` again."])])
    expected = {c.version: c.seconds for c in (estimates or plan).changes}
    runs = _runs(records.history)
    changes = Table(["Run", "Version", "Direction", "Outcome", "Took", "Estimate", "Actual / estimate"], [
        [str(r["run_id"]), str(r["version"]), str(r["direction"]), "ok" if r["success"] else "error",
         human_seconds(r["duration_ms"] / 1000), _estimate(expected, r), _ratio(expected, r)]
        for r in records.history])
    failed = [r for r in records.history if not r["success"]]
    sections = [
        Section("Runs", table=Table(["Run", "Started", "By", "Changes", "Outcome"], [
            [run_id, str(rows[0]["applied_at"]), str(rows[0]["applied_by"]), str(len(rows)),
             "ok" if all(r["success"] for r in rows) else "error"] for run_id, rows in runs.items()])),
        Section("Changes: actual against estimate", table=changes),
        Section("Open items", tone="danger" if failed else "ok",
                items=[f"{r['version']} {r['direction']} failed: {_detail(r).get('error', 'see detail')} "
                       f"at {_detail(r).get('failed_at', '?')}" for r in failed] or ["none: every step succeeded"]),
        Section("Audit trail", table=Table(["At", "Action", "Version", "Who", "Host", "Ticket"], [
            [str(a["at"]), str(a["action"]), str(a["version"] or "—"), str(a["who"]), str(a["host"]),
             str(a["ticket"] or "—")] for a in records.audit])),
    ]
    facts = [("Target", plan.target), ("Runs", str(len(runs))), ("Changes recorded", str(len(records.history))),
             ("Failures", str(len(failed))),
             ("Time spent", human_seconds(sum(r["duration_ms"] for r in records.history) / 1000))]
    return Document("report", "Post-migration report", f"{len(runs)} run(s) recorded on {plan.target}",
                    facts, sections)


def _runs(rows: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    runs: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        runs.setdefault(str(row["run_id"]), []).append(row)
    return runs


def _estimate(expected: dict[str, float], row: dict[str, Any]) -> str:
    seconds = expected.get(str(row["version"]))
    return human_seconds(seconds) if seconds is not None and row["direction"] == "up" else "—"


def _ratio(expected: dict[str, float], row: dict[str, Any]) -> str:
    seconds = expected.get(str(row["version"]))
    if seconds is None or not seconds or row["direction"] != "up":
        return "—"
    return f"{row['duration_ms'] / 1000 / seconds:.1f}×"


def _detail(row: dict[str, Any]) -> dict[str, Any]:
    try:
        return dict(json.loads(row["detail"])) if row.get("detail") else {}
    except ValueError:
        return {}
