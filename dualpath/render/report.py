"""Post-migration report: what happened against what was planned, from the run records (dualpath_history,
dualpath_audit, dualpath_batch_checkpoint) and the plan's estimates; follow-ups from followups.py."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dualpath.plan import Plan
from dualpath.render.display import duration, shown_target
from dualpath.render.document import Document, Section, Table
from dualpath.render.followups import follow_ups
from dualpath.render.inputs import DocInputs
from dualpath.render.records import RunRecords, detail_of, read_records

__all__ = ["RunRecords", "read_records", "report"]

LOCK_WAITS = ("lock-timeout", "deadlock")


def report(inputs: DocInputs, estimates: Sequence[Plan] = ()) -> Document:
    """``estimates``: plans over the recorded versions, to compare real durations with the estimates."""
    plan, records = inputs.plan, inputs.records
    target = shown_target(plan.target)
    if not records.history:
        return Document("report", "Post-migration report", f"no run recorded on {target} yet",
                        [("Runs", "0")], [Section("No run yet", text=[
                            "This report fills in from dualpath_history and dualpath_audit once a run exists: "
                            "run the migration, then `dualpath docs` again."]), _follow_ups(inputs)])
    known = list(estimates) or [plan]
    runs = _runs(records.history)
    failed = [r for r in records.history if not r["success"]]
    rollbacks = [r for r in records.history if r["direction"] == "down"]
    sections = [
        Section("Runs", table=Table(["Run", "Started", "By", "Changes", "Outcome", "Approved by"], [
            [run_id, str(rows[0]["applied_at"]), str(rows[0]["applied_by"]), str(len(rows)),
             "ok" if all(r["success"] for r in rows) else "error", _approved_by(records, run_id)]
            for run_id, rows in runs.items()])),
        Section("Changes: actual against estimate", table=Table(
            ["Run", "Version", "Direction", "Outcome", "Steps", "Estimate", "Actual", "Actual / estimate",
             "Lock waits", "Rows changed"],
            [_change_row(known, records, r) for r in records.history])),
        _validation_section(records),
        Section("Rollbacks", tone="warn" if rollbacks else "ok",
                items=[f"{r['version']} rolled back in run {r['run_id']} by {r['applied_by']} "
                       f"({'ok' if r['success'] else 'failed'}, {duration(r['duration_ms'] / 1000)})"
                       for r in rollbacks] or ["none"]),
        Section("Open items", tone="danger" if failed else "ok",
                items=[f"{r['version']} {r['direction']} failed: {detail_of(r).get('error', 'see detail')} "
                       f"at {detail_of(r).get('failed_at', detail_of(r).get('at', '?'))}" for r in failed]
                or ["none: every step succeeded"]),
        _follow_ups(inputs),
        Section("Audit trail", table=Table(["At", "Action", "Version", "Who", "Host", "Ticket"], [
            [str(a["at"]), str(a["action"]), str(a["version"] or "—"), str(a["who"]), str(a["host"]),
             str(a["ticket"] or "—")] for a in records.audit])),
    ]
    facts = [("Target", target), ("Runs", str(len(runs))), ("Changes recorded", str(len(records.history))),
             ("Failures", str(len(failed))), ("Rollbacks", str(len(rollbacks))),
             ("Lock waits", str(len(records.audits(*LOCK_WAITS)))),
             ("Time spent", duration(sum(r["duration_ms"] for r in records.history) / 1000))]
    return Document("report", "Post-migration report", f"{len(runs)} run(s) recorded on {target}", facts, sections)


def _follow_ups(inputs: DocInputs) -> Section:
    items = follow_ups(inputs)
    return Section("Follow-ups", tone="warn" if items else "ok", items=items or ["none"])


def _change_row(known: Sequence[Plan], records: RunRecords, row: dict[str, Any]) -> list[str]:
    version, up = str(row["version"]), row["direction"] == "up"
    estimate = next((p for p in known if any(c.version == version for c in p.changes)), None)
    change = next((c for c in estimate.changes if c.version == version), None) if estimate else None
    seconds = change.seconds if change is not None and up else None
    actual = row["duration_ms"] / 1000
    waits = [a for a in records.audits(*LOCK_WAITS, version=version) if a["run_id"] == row["run_id"]]
    rows = records.rows_changed(version, str(row["direction"]))
    planned_rows = (sum(estimate.step(s).rows for s in change.steps)
                    if estimate is not None and change is not None and up else None)
    return [str(row["run_id"]), version, str(row["direction"]), "ok" if row["success"] else "error",
            ", ".join(change.steps if up else change.rollback_steps) if change else "—",
            duration(seconds) if seconds is not None else "—", duration(actual),
            f"{actual / seconds:.1f}×" if seconds else "—",
            f"{len(waits)} ({', '.join(str(detail_of(a).get('at', '?')) for a in waits)})" if waits else "0",
            f"{rows:,}" if rows is not None else (f"~{planned_rows:,} (planned)" if planned_rows else "—")]


def _validation_section(records: RunRecords) -> Section:
    results = records.audits("validation")
    rows = []
    for a in results:
        detail = detail_of(a)
        outcomes = detail.get("outcomes") or []
        failures = [o for o in outcomes if not o.get("success")]
        rows.append([str(a["at"]), str(a["run_id"]), str(detail.get("tenant") or detail.get("target") or "—"),
                     "passed" if detail.get("passed", not failures) else "failed",
                     f"{len(outcomes) - len(failures)} of {len(outcomes)}",
                     "; ".join(f"{o.get('expectation')} on {o.get('table')}" for o in failures[:3]) or "—"])
    return Section("Validation", tone="danger" if any(r[3] == "failed" for r in rows) else "ok",
                   table=Table(["At", "Run", "Where", "Result", "Expectations met", "Failed"], rows) if rows else None,
                   text=[] if rows else
                   ["No validation recorded: `dualpath validate` or the migrate flow records one."])


def _approved_by(records: RunRecords, run_id: str) -> str:
    decisions = [a for a in records.audits("approval", "rejection", "break-glass") if a["run_id"] == run_id]
    if not decisions:
        return "none recorded"
    texts = []
    for a in decisions:
        detail = detail_of(a)
        who = detail.get("approver") or a["who"]
        texts.append(f"{who}" + (f" ({a['ticket']})" if a["ticket"] else "") if a["action"] == "approval"
                     else f"{a['action']} by {who}")
    return "; ".join(dict.fromkeys(texts))


def _runs(rows: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    runs: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        runs.setdefault(str(row["run_id"]), []).append(row)
    return runs
