"""The operator document set, from one Plan, the config and the run records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from dualpath.changes import Change
from dualpath.config import Settings
from dualpath.plan import Plan, TargetState, build_plan
from dualpath.render.briefing import briefing
from dualpath.render.display import localise, shown_target
from dualpath.render.document import Document
from dualpath.render.inputs import BackupNote, DocInputs
from dualpath.render.plan_doc import plan_document
from dualpath.render.records import RunRecords
from dualpath.render.registers import contingency, risk_register
from dualpath.render.report import report
from dualpath.render.runbook import checklist, runbook


def build_documents(plan: Plan, settings: Settings, records: RunRecords,
                    changes: Sequence[Change] = (), target: TargetState | None = None, *, env: str | None = None,
                    backup_destination: str | None = None, backups: Sequence[BackupNote] = (),
                    migrations: Path | None = None) -> list[Document]:
    """Plan, runbook, checklist, risk register, briefing, contingency questions, post-migration report; every
    path relative to the migrations folder (or the project), the target as the user wrote it."""
    plan = replace(plan, target=shown_target(plan.target))
    inputs = DocInputs(plan, settings, records, changes, target, env, backup_destination, backups)
    documents = [plan_document(plan), runbook(plan, settings), checklist(plan, settings), risk_register(inputs),
                 briefing(inputs), contingency(plan, settings),
                 report(inputs, _recorded_estimates(plan, settings, records, changes, target))]
    roots = [r for r in (migrations, settings.root if settings.source else None) if r is not None]
    return [localise(d, roots) for d in documents] if roots else documents


def _recorded_estimates(plan: Plan, settings: Settings, records: RunRecords, changes: Sequence[Change],
                        target: TargetState | None) -> list[Plan]:
    """Estimates for the versions that ran (no longer pending, so not in ``plan``), each change planned on its
    own: together, a change that created a table would make every later change on it look free. The planner's
    row counts for WHERE clauses are left out: after the run they count what is left, not what was done."""
    ran = {str(r["version"]) for r in records.history}
    if target is None:
        return []
    sizes_only = replace(target, statement_rows={})
    return [build_plan([c], sizes_only, settings=settings, throughput=plan.throughput)
            for c in changes if c.version in ran]
