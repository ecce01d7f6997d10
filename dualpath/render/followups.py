"""What is left to do after the runs recorded so far: irreversible clean-ups still pending, contract steps
of an expand/contract left for a later release, backups to keep, and failures with their reason."""

from __future__ import annotations

from dualpath.plan import DESTRUCTIVE
from dualpath.render.display import shown_target
from dualpath.render.inputs import DocInputs
from dualpath.render.records import detail_of


def follow_ups(inputs: DocInputs) -> list[str]:
    return _pending_contracts(inputs) + _backups_to_keep(inputs) + _failures(inputs)


def applied_versions(inputs: DocInputs) -> list[str]:
    """Versions whose latest history row is a successful apply."""
    latest: dict[str, dict[str, object]] = {}
    for row in inputs.records.history:
        latest[str(row["version"])] = row
    return [v for v, r in latest.items() if r["direction"] == "up" and r["success"]]


def _pending_contracts(inputs: DocInputs) -> list[str]:
    plan = inputs.plan
    applied = set(applied_versions(inputs))
    touched_by_applied = {t for c in inputs.changes if c.version in applied for s in c.forward
                          for t in tables_named(s.text, plan.engine)}
    items = []
    for change in plan.changes:
        steps = [plan.step(s) for s in change.steps]
        dropping = [s for s in steps if set(s.operations) & DESTRUCTIVE]
        if not dropping and not change.irreversible:
            continue
        tables = sorted({t for s in dropping for t in s.tables})
        expand = tables and any(t in touched_by_applied for t in tables)
        what = (f"Contract step {change.version} {change.description} ({change.where}) is left for a later release: "
                f"it completes the expand already applied on {', '.join(tables)}" if expand else
                f"Irreversible clean-up {change.version} {change.description} ({change.where}) is still pending")
        if change.irreversible:
            what += f"; irreversible ({change.irreversible}): a verified backup is taken before it runs"
        items.append(what)
    return items


def tables_named(sql: str, engine: str) -> set[str]:
    """The tables a statement names (for matching an expand with its contract); unreadable SQL names none."""
    from dualpath.risk.catalogue import family_of
    from dualpath.risk.ops import SqlSyntaxError, extract_ops

    try:
        return {op.table.split(".")[-1] for op in extract_ops(sql, family_of(engine)) if op.table}
    except (SqlSyntaxError, ValueError):
        return set()


def _backups_to_keep(inputs: DocInputs) -> list[str]:
    applied = set(applied_versions(inputs))
    items = []
    for version in applied:
        change = inputs.change(version)
        backup = inputs.backup_for(version)
        if change is not None and change.irreversible is not None:
            kept = f"backup {backup.backup_id}" if backup else "the backup taken before it"
            items.append(f"{version} {change.description} is applied and irreversible: keep {kept} until the "
                         "release is accepted, then prune it (`dualpath backup prune`)")
    return items


def _failures(inputs: DocInputs) -> list[str]:
    latest: dict[str, dict[str, object]] = {}
    for row in inputs.records.history:
        latest[str(row["version"])] = row
    target = shown_target(inputs.plan.target)
    items = []
    for version, row in latest.items():
        if row["success"]:
            continue
        detail = detail_of(row)
        where = detail.get("failed_at") or detail.get("at") or detail.get("file") or "?"
        error = detail.get("error", "see the history")
        items.append(f"{target}: {version} {row['direction']} failed at {where}: {error}"
                     f"; fix the cause and run again ({'resumable' if detail.get('resumable') else 'rolled back'})")
    return items
