"""The migrate flow: window → pre-flight → approval → window → backup → waves (window before each)
→ rollback on failure → report.

Every decision is made in the core (dualpath.rollout, dualpath.tenants, dualpath.gates,
dualpath.windows, dualpath.host_limits); this module only sequences tasks and tells Slack at each phase.
Errors end the flow as dualpath errors (exit codes: 3 refused, 4 failed and rolled back). A decision
that is not an approval, and a window that closes before a wave, end the run in a Completed state of
their own ("Rejected", "Not approved", "Window closed") after the report, the audit rows and Slack:
nothing failed, and nothing may page anyone or offer a retry.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger
from prefect.states import State

from dualpath.approval_card import approver_columns, readable_plan, relative_to
from dualpath.changes import Change
from dualpath.errors import DualpathError, RunFailed, TargetRefused
from dualpath.flows.approval import acknowledge_blocked_rollback
from dualpath.flows.approval_step import backup_text, obtain_approval
from dualpath.flows.endings import end_rescheduled, end_stopped, end_unapproved, finish
from dualpath.flows.fan_out import (
    check_fan_out,
    check_tenants_per_run,
    roll_back_one,
    submit_wave,
)
from dualpath.flows.in_flight import chunk_by_key
from dualpath.flows.reschedule import reschedule_at_opening, wait_hint
from dualpath.flows.rollout_run import (
    START_TIMEOUT_S,
    Rollout,
    dialect_of,
    open_rollout,
    tell_error,
    wave_names,
)
from dualpath.flows.silence import MIGRATE_FLOW, ensure_zombie_automation, sends_heartbeats
from dualpath.gates import refuse_failed_gates
from dualpath.redaction import redact
from dualpath.render.document import render_markdown
from dualpath.render.plan_doc import plan_document
from dualpath.rollout import (
    Phase,
    PlanFacts,
    TenantOutcome,
    approval_reasons,
    demote,
    plan_markdown,
    rollback_order,
    should_halt,
    skip_remaining,
    window_stop,
)
from dualpath.slack.client import (
    Failure,
    PlanSummary,
    Rollback,
    RunInfo,
)
from dualpath.tasks import clock
from dualpath.tasks.checks import (
    backup_settings,
    backup_tenant,
    backup_tenants,
    blocking_findings,
    ensure_host_limits,
    lint_changes,
    run_gates,
    window_gate,
)
from dualpath.tasks.tenant import (
    apply_tenant,
    fingerprint_tenant,
    plan_tenant,
    preflight_tenants,
)
from dualpath.tenants import (
    TenantTarget,
    ValidationFailed,
    describe_validation,
    read_tenant_changes,
    share_groups,
)

PREFLIGHT_CHUNK = 25  # tenants a pre-flight task checks one after another (tasks/tenant.py preflight_tenants)


@flow(name=MIGRATE_FLOW, flow_run_name="migrate-{env}")
def migrate(env: str, to_version: str | None = None, tenants: str = "all", dry_run: bool = False,
            config: str | None = None, migrations: str | None = None, approve: bool = False,
            approver: str | None = None, wait_for_window: bool = False,
            report_dir: str | None = None, fan_out: str = "in-process",
            tenants_per_run: int = 1, child_start_timeout_s: float = START_TIMEOUT_S) -> dict[str, Any] | State:
    """Migrate an environment's tenants to ``to_version`` (default: the newest), canary first, in waves.
    Whatever happens after the environment is read, its Slack message ends in a final state naming the run.
    ``fan_out``: where each tenant's apply and rollback run: ``in-process`` (this flow's threads) or
    ``deployments`` (a child flow run of the tenant-apply/tenant-rollback deployment per tenant, on any worker
    of the pool; see flows/fan_out.py). ``tenants_per_run``: with ``deployments``, how many tenants of a wave
    one child apply run takes (a worker's new process, Prefect and Great Expectations imported, paid once
    per group; a crash reruns the group, which applies only what is still pending); ``child_start_timeout_s``:
    a child run no worker has started by then is cancelled and its tenants fail (no worker, no waiting for ever)."""
    run = open_rollout(env, tenants, config, migrations)
    run.fan_out = check_fan_out(fan_out)
    run.tenants_per_run = check_tenants_per_run(tenants_per_run)
    run.child_start_timeout_s = child_start_timeout_s
    try:
        return rollout(run, to_version, dry_run, approve, approver, wait_for_window, report_dir)
    except Exception as exc:
        if not run.ended:
            tell_error(run, exc)
        raise


def rollout(run: Rollout, to_version: str | None, dry_run: bool, approve: bool, approver: str | None,
            wait_for_window: bool, report_dir: str | None) -> dict[str, Any] | State:
    env = run.ctx.name
    logger = get_run_logger()
    window, grace = run.ctx.env.window, run.ctx.env.window_grace_s
    later = reschedule_at_opening(window, clock.now(), grace) if wait_for_window else None
    if later is not None:  # a deployment run: a run of it is scheduled at the opening; no worker sleeps till then
        return end_rescheduled(run, later.describe(window or ""), report_dir)
    logger.info("window: %s", window_gate(window, wait_for_window, grace, wait_hint()))
    run.notifier.run_started(run.info)  # "pre-flight running…": no counts until pre-flight has them
    # before pre-flight: it, like every tenant task, occupies a slot of its database host's limit
    run.notes += ensure_host_limits(run.limits)
    if run.fan_out == "deployments" or sends_heartbeats():  # a run whose process dies ends Crashed, not Running
        run.notes += [n for n in [ensure_zombie_automation()] if n]
    changes = preflight(run, to_version)
    if not changes:
        return finish(run, "up to date", report_dir)
    if dry_run:
        for tenant in run.targets:
            apply_tenant(*run.args, tenant, run.run_id, to_version, True, None)
        return finish(run, "dry run", report_dir)
    run.decision = obtain_approval(run, changes, approve, approver)
    if run.decision is not None and not run.decision.approved:
        return end_unapproved(run, run.decision, report_dir)
    # the approval may come long after pre-flight (approval_timeout_s): is the window still open?
    phase = "after pre-flight" if run.decision is None else "after the approval"
    closed = window_stop(run.ctx.env.window, clock.now(), f"{phase}, before the backups")
    if closed:
        skip_remaining(run.outcomes, wave_names(run), 0)
        return end_stopped(run, closed, report_dir)
    back_up(run)  # after the approval (the approver saw the plan first), right before the first wave
    halted = run_waves(run, to_version)
    if halted:
        roll_back(run, halted, approve)
        finish(run, "rolled back", report_dir)
        raise RunFailed(f"{halted}; the run was rolled back (see the report)", where=f"environment {env}",
                        hint="fix the cause on the failed tenant and run again")
    if run.stopped:
        return end_stopped(run, run.stopped, report_dir)
    return finish(run, "completed", report_dir)


def preflight(run: Rollout, to_version: str | None) -> list[Change]:
    """Connectivity, versions, drift, lint, gates; the changes some tenant still needs, in order."""
    chunks = preflight_chunks(run)
    futures = run.paced(chunks, lambda chunk: chunk[0],
                        lambda chunk: preflight_tenants.submit(*run.args, chunk, run.run_id, to_version))
    found = {name: p for _, future in futures for name, p in future.result().items()}
    run.preflight = {t.name: found[t.name] for t in run.targets}
    run.notes += [p.role_warning for p in run.preflight.values() if p.role_warning]  # least privilege
    wanted = {v for p in run.preflight.values() for v in p.pending}
    links = run.ctx.settings.sources.follow_links_outside
    changes = [c for c in read_tenant_changes(run.targets[0], run.ctx.migrations, links,
                                                   run.ctx.settings.rollback.missing) if c.version in wanted]
    if not changes:
        run.info = replace(run.info, plan=PlanSummary())
        return []
    files = [f for c in changes for f in (c.file, c.rollback_file) if f]
    findings = lint_changes(str(run.ctx.migrations), dialect_of(run), files)
    blocking = blocking_findings(findings, run.ctx.env.fail_on)
    if blocking:
        raise TargetRefused(f"pre-flight: {len(blocking)} lint finding(s) at or above fail_on="
                            f"{run.ctx.env.fail_on}: " + "; ".join(f"{f.rule} {f.file}:{f.line}" for f in blocking),
                            hint="fix them, or mark them `-- dualpath:ignore RULE reason=...` with a reason")
    refuse_failed_gates(run_gates(*run.args, run.targets), "pre-flight")
    reasons = approval_reasons(changes, run.ctx.env.approval)
    rollback_files = {str(Path(c.rollback_file).resolve()) for c in changes if c.rollback_file}  # not risks
    facts = PlanFacts(env=run.ctx.name, changes=changes, waves=[[t.name for t in w] for w in run.waves],
                      findings=[(f.severity, f.rule, f"{relative_to(f.file, run.ctx.migrations)}:{f.line} {f.message}")
                                for f in findings if str(Path(f.file).resolve()) not in rollback_files],
                      rollback_notes=sum(str(Path(f.file).resolve()) in rollback_files for f in findings),
                      backup=backup_text(run, changes), rollback_policy=run.ctx.env.rollback_policy,
                      approvals=reasons, window=run.ctx.env.window)
    # The approver's first screen is the summary (changes, risks, waves, rollback plan); below it the full
    # plan of the tenant with the most to do (canary first): steps, lock levels, estimates, rollback steps.
    widest = max(run.targets, key=lambda t: len(run.preflight[t.name].pending))
    plan = plan_tenant(*run.args, widest, run.run_id, to_version)
    run.plan = None if plan is None else readable_plan(plan, run.ctx.migrations, run.ctx.name)
    run.facts = facts
    detail = "" if run.plan is None else render_markdown(approver_columns(plan_document(run.plan)))
    run.plan_md = plan_markdown(facts) + (f"\n\n---\n\n{demote(detail)}" if detail else "")
    risks: dict[str, int] = {}
    for f in findings:
        risks[f.severity] = risks.get(f.severity, 0) + 1
    run.info = RunInfo(**{**run.info.__dict__, "plan": PlanSummary(
        changes=len(changes), risks=risks, irreversible=tuple(c.version for c in changes if c.irreversible))})
    run.notifier.preflight_done(run.info)
    return changes


def preflight_chunks(run: Rollout) -> list[list[TenantTarget]]:
    """The targets in chunks of one host each (in_flight.py ``chunk_by_key``): a handful of tenants keep a
    task each, a thousand share 40."""
    return chunk_by_key(run.targets, lambda t: t.concurrency_key, {limit.key: limit.slots for limit in run.limits},
                        run.ctx.env.host_concurrency, PREFLIGHT_CHUNK)


def back_up(run: Rollout) -> None:
    """Every tenant's backup, a host limit's worth of tasks side by side, the next as one ends (one after
    another they were most of a 1,000-tenant run; all at once, Prefect's unbounded thread pool would start a
    dump per tenant). Schema tenants of one wave in one database share one dump (each pg_dump read the whole
    catalog again); the others are backed up one by one. The first failure ends the run, as before. A bar
    runs from its task's submission to its final state."""
    settings = backup_settings(run.ctx)
    groups = [group for wave in run.waves
              for group in share_groups([t for t in wave if run.preflight[t.name].pending], settings)]
    submitted: dict[str, float] = {}

    def submit(group: list[TenantTarget]) -> Any:
        submitted[group[0].name] = time.time()
        return _submit_backup(run, group)

    backups: dict[str, str | None] = {}
    # the first failure ends the run: nothing after it is submitted, and its result() raises below
    for group, future in run.paced(groups, lambda g: g[0], submit, stop_on_failure=True):
        result = future.result()
        backups.update(result if isinstance(result, dict) else {group[0].name: result})
        ended = future.state.timestamp
        for tenant in group:
            run.backups[tenant.name] = Phase("backup", "backup", submitted[group[0].name],
                                             ended.timestamp() if ended else time.time())
    run.notes += [f"backup {b} of {name}" for name, b in backups.items() if b]


def _submit_backup(run: Rollout, group: list[TenantTarget]) -> Any:
    if len(group) == 1:
        return backup_tenant.submit(*run.args, group[0], run.preflight[group[0].name].pending)
    return backup_tenants.submit(*run.args, group, {t.name: run.preflight[t.name].pending for t in group})


def run_waves(run: Rollout, to_version: str | None) -> str | None:
    """Canary, then waves; a reason when the rollout halts (failure threshold or a gate), else None.
    Before each wave the window is checked again: closed, the rollout stops there (``run.stopped``)."""
    names = wave_names(run)
    approval = run.decision.audit_detail() if run.decision is not None else None
    for index, wave in enumerate(run.waves, start=1):
        closed = window_stop(run.ctx.env.window, clock.now(), f"before wave {index} of {len(run.waves)}")
        if closed:
            skip_remaining(run.outcomes, names, index - 1)
            run.stopped = closed
            return None
        submitted = time.time()  # a failed tenant's bar starts here: its task's own times are lost with it
        futures = submit_wave(run, wave, to_version, approval)
        for tenant, future in futures:
            run.outcomes.append(_outcome(run, tenant, index, future, submitted))
        failed = [o for o in run.outcomes if o.state == "failed"]
        run.notifier.wave_progress(run.info, _progress(run, index))
        if should_halt(run.outcomes, run.ctx.env.failure_threshold):
            skip_remaining(run.outcomes, names, index)
            first = failed[0]
            run.notifier.run_failed(run.info, Failure(what=f"wave {index} failed", error=first.error,
                                                      next_step="rolling back", tenant=first.name,
                                                      step="apply", location=first.where or None))
            return f"wave {index}: {len(failed)} tenant(s) failed ({first.name}: {first.error})"
        if index < len(run.waves) and run.ctx.env.gates:
            results = run_gates(*run.args, run.targets)
            broken = [r.describe() for r in results if not r.passed]
            if broken:
                skip_remaining(run.outcomes, names, index)
                return f"after wave {index}: " + "; ".join(broken)
    return None


def _outcome(run: Rollout, tenant: TenantTarget, wave: int, future: Any, submitted: float) -> TenantOutcome:
    before = run.preflight[tenant.name]
    outcome = TenantOutcome(tenant.name, wave, start_version=before.version, fingerprint_before=before.fingerprint)
    outcome.phases = [run.backups[tenant.name]] if tenant.name in run.backups else []
    try:
        outcome.applied, outcome.validation_result, phases = future.result()
        outcome.phases += phases
        outcome.state = "applied"
    except Exception as exc:  # the tenant failed; the rollout decides what that means
        outcome.phases.append(Phase("change", "apply", submitted, time.time(), "failed"))
        outcome.state, outcome.error = "failed", redact(exc.message if isinstance(exc, DualpathError) else str(exc))
        outcome.where = redact(exc.where or "") if isinstance(exc, DualpathError) else ""
        if isinstance(exc, ValidationFailed):
            outcome.validation_result = exc.result
    outcome.validation = describe_validation(outcome.validation_result)
    return outcome


def roll_back(run: Rollout, reason: str, approve: bool) -> None:
    """Undo this run on the failed tenant and, by policy, every tenant it migrated, newest first."""
    by_name = {t.name: t for t in run.targets}
    outcomes = {o.name: o for o in run.outcomes}
    blocked: list[str] = []
    undone: list[str] = []
    for name in rollback_order(run.outcomes, run.ctx.env.rollback_policy):
        outcome, tenant = outcomes[name], by_name[name]
        started = time.time()
        try:
            versions, blocker = roll_back_one(run, tenant, outcome.start_version)
        except Exception as exc:
            outcome.state, outcome.error = "rollback failed", f"{outcome.error}; rollback: {exc}".strip("; ")
            outcome.phases.append(Phase("rollback", "rollback", started, time.time(), "failed"))
            continue
        outcome.phases.append(Phase("rollback", "rollback", started, time.time(), "rolled back"))
        undone += [f"{name}: {v}" for v in versions]
        outcome.fingerprint_after = fingerprint_tenant(*run.args, tenant, run.run_id)
        outcome.state = "rollback blocked" if blocker else "rolled back"
        if blocker:
            blocked.append(f"{name} stays at {blocker} (irreversible; its data returns only from the backup)")
    if blocked:
        text = "Rollback stopped at irreversible changes:\n\n" + "\n".join(f"- {b}" for b in blocked)
        answer = {"acknowledged": "auto (--approve)"} if approve else \
            acknowledge_blocked_rollback(text, run.ctx.env.approval_timeout_s)
        run.notes += blocked + [f"acknowledged: {answer}"]
    mismatched = [o.name for o in run.outcomes if o.restored is False]
    run.notes.append(f"halted: {reason}")
    run.notes.append("schema fingerprints after rollback: " + (f"DIFFER on {', '.join(mismatched)}" if mismatched
                                                               else "equal to those before the run"))
    run.notifier.run_rolled_back(run.info, Rollback(reason=reason, undone=tuple(undone),
                                                    tenants=sum(o.state == "rolled back" for o in run.outcomes),
                                                    duration_s=time.monotonic() - run.started))


def _progress(run: Rollout, wave: int) -> Any:
    from dualpath.slack.client import WaveProgress

    return WaveProgress(wave=wave, waves=len(run.waves), tenants_done=sum(o.state == "applied" for o in run.outcomes),
                        tenants_total=len(run.targets), tenants_failed=sum(o.state == "failed" for o in run.outcomes),
                        elapsed_s=time.monotonic() - run.started)
