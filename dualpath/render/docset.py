"""The operator document set, from one Plan, the config and the run records."""

from __future__ import annotations

from collections.abc import Sequence

from dualpath.changes import Change
from dualpath.config import Settings
from dualpath.plan import Plan, TargetState, build_plan
from dualpath.render.document import Document
from dualpath.render.plan_doc import plan_document
from dualpath.render.registers import briefing, contingency, risk_register
from dualpath.render.report import RunRecords, report
from dualpath.render.runbook import checklist, runbook


def build_documents(plan: Plan, settings: Settings, records: RunRecords,
                    changes: Sequence[Change] = (), target: TargetState | None = None) -> list[Document]:
    """Plan, runbook, checklist, risk register, briefing, contingency questions, post-migration report."""
    return [plan_document(plan), runbook(plan, settings), checklist(plan, settings), risk_register(plan, settings),
            briefing(plan, settings), contingency(plan, settings),
            report(plan, records, _recorded_estimates(plan, settings, records, changes, target))]


def _recorded_estimates(plan: Plan, settings: Settings, records: RunRecords, changes: Sequence[Change],
                        target: TargetState | None) -> Plan | None:
    """Estimates for the versions that ran (no longer pending, so not in ``plan``)."""
    ran = {str(r["version"]) for r in records.history}
    chosen = [c for c in changes if c.version in ran]
    if not chosen or target is None:
        return None
    return build_plan(chosen, target, settings=settings, throughput=plan.throughput)
