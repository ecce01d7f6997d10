"""The stakeholder briefing for the run at hand: one environment, its window, tenants and waves, what users
notice at each step, tickets once, who approves and whom to call, and what the config leaves unsaid."""

from __future__ import annotations

from dualpath.config import Environment
from dualpath.render.display import duration, shown_target
from dualpath.render.document import Document, Section, Table
from dualpath.render.impact import step_impact
from dualpath.render.inputs import DocInputs
from dualpath.render.plan_doc import headline


def briefing(inputs: DocInputs) -> Document:
    plan, settings = inputs.plan, inputs.settings
    env = inputs.environment()
    slack = settings.slack
    oncall = slack.get("oncall_mention")
    channel = _channel(inputs, env)
    tickets = _tickets(inputs)
    approvers = list(env.approvers) if env else []
    needs_approval = _needs_approval(inputs, env)
    sections = [
        Section("What changes", items=[f"{ticket}: " + "; ".join(names) for ticket, names in tickets.items()]
                or ["nothing pending"]),
        Section("Expected user impact", tone="warn" if any(s.blocks != "none" or s.rows for s in plan.steps) else "ok",
                table=Table(["Step", "Change", "What users notice", "For about"], [
                    [s.id, f"{s.version} {_description(inputs, s.version)}", step_impact(inputs, s),
                     duration(s.seconds)]
                    for s in plan.steps]) if plan.steps else None,
                text=[_impact_summary(inputs)] if plan.steps else ["Nothing pending: no step runs."]),
        _run_section(inputs, env),
        Section("Approvals", items=_approval_items(env, needs_approval, approvers)),
        Section("Escalation path", items=[f"{n}. {who}" for n, who in enumerate(settings.escalation, 1)]
                + ([f"on-call in Slack: {oncall}" + (f" in {channel}" if channel else "")] if oncall else [])
                or ["not configured: see Missing below"],
                table=Table(["Role", "Owner"], [[k, v] for k, v in settings.owners.items()]) if settings.owners
                else None),
    ]
    if settings.sla:
        sections.append(Section("Service level", text=[settings.sla]))
    missing = _missing(inputs, env, needs_approval, approvers, bool(oncall), channel)
    sections.append(Section("Missing", tone="warn" if missing else "ok",
                            items=[f"missing: {m}" for m in missing] or ["nothing: every item a stakeholder needs is "
                                                                        "configured"]))
    facts = [("Target", shown_target(plan.target)), ("Environment", inputs.env or "not given"),
             ("Window", (env.window or "any time") if env else "—"),
             ("Tenants", str(len(env.tenant_list())) if env else "—"),
             ("Expected duration", duration(plan.totals.seconds)),
             ("Blocking time", duration(plan.totals.blocking_seconds)),
             ("Approvers", ", ".join(approvers) or ("none configured" if needs_approval else "none required")),
             ("Tickets", ", ".join(dict.fromkeys(c.ticket for c in plan.changes if c.ticket)) or "—"),
             ("On-call", oncall or "—")]
    return Document("briefing", "Stakeholder briefing", headline(plan), facts, sections)


def _impact_summary(inputs: DocInputs) -> str:
    """The whole release in one sentence: how long tables are blocked, how long writes slow down."""
    steps = inputs.plan.steps
    blocked = sorted({t for s in steps if s.blocks != "none" for t in s.tables})
    data = [s for s in steps if s.rows and s.blocks == "none"]
    parts = []
    if blocked:
        seconds = sum(s.seconds for s in steps if s.blocks != "none")
        parts.append(f"{', '.join(blocked)} blocked for about {duration(seconds)} in all")
    if data:
        parts.append(f"slower writes for about {duration(sum(s.seconds for s in data))} while "
                     f"{sum(s.rows for s in data):,} rows change")
    return ("In short: " + "; ".join(parts) + "." if parts else
            "In short: nothing users notice; no step blocks a table that holds rows or changes many rows.")


def _description(inputs: DocInputs, version: str) -> str:
    change = inputs.planned(version)
    return change.description if change else ""


def _tickets(inputs: DocInputs) -> dict[str, list[str]]:
    """Ticket (with its link) → the changes under it, each ticket once."""
    grouped: dict[str, list[str]] = {}
    for c in inputs.plan.changes:
        key = (f"{c.ticket} ({c.ticket_url})" if c.ticket_url else c.ticket) if c.ticket else "no ticket"
        label = f"{c.version} {c.description}" + (" (irreversible)" if c.irreversible else "")
        grouped.setdefault(key, []).append(label)
    return grouped


def _channel(inputs: DocInputs, env: Environment | None) -> str | None:
    channels = inputs.settings.slack.get("channels") or {}
    return (env.slack_channel if env else None) or channels.get(inputs.env or "") or \
        inputs.settings.slack.get("default_channel")


def _needs_approval(inputs: DocInputs, env: Environment | None) -> bool:
    if env is None:
        return any(c.irreversible for c in inputs.plan.changes)
    return env.approval == "always" or (env.approval == "irreversible" and any(c.irreversible
                                                                               for c in inputs.plan.changes))


def _approval_items(env: Environment | None, needed: bool, approvers: list[str]) -> list[str]:
    if not needed:
        return ["no approval needed: " + (f"policy '{env.approval}'" if env else "nothing irreversible")]
    why = (f"policy '{env.approval}'" + (" and the release holds an irreversible change"
                                         if env.approval == "irreversible" else "")) if env else "irreversible change"
    wait = f"; the run waits {duration(env.approval_timeout_s)} for an answer" if env else ""
    return [f"required ({why}){wait}", f"approvers: {', '.join(approvers) or 'not configured'}"]


def _run_section(inputs: DocInputs, env: Environment | None) -> Section:
    if env is None:
        return Section("The run", tone="warn", text=[
            "No environment given: this briefing covers the target alone. Pass `dualpath docs --env NAME` "
            "for the window, tenants and waves of that environment."])
    from dualpath.tenants import TenantTarget, plan_waves

    tenants = [TenantTarget(t.name, t.url, t.canary) for t in env.tenant_list()]
    waves = plan_waves(tenants, env.wave_size)
    rows = [[str(n), ", ".join(t.name for t in wave), "canary" if n == 1 and any(t.canary for t in wave) else ""]
            for n, wave in enumerate(waves, 1)]
    text = [f"Environment {inputs.env}, window {env.window or 'any time'}: {len(tenants)} tenant(s) in "
            f"{len(waves)} wave(s); {env.failure_threshold} failed tenant(s) stop the rollout and roll back "
            f"{'the failed tenant' if env.rollback_policy == 'failed' else 'every tenant of the run'}."]
    return Section("The run", text=text, table=Table(["Wave", "Tenants", "Note"], rows) if rows else None)


def _missing(inputs: DocInputs, env: Environment | None, needs_approval: bool, approvers: list[str],
             oncall: bool, channel: str | None) -> list[str]:
    settings = inputs.settings
    missing = []
    if env is None:
        missing.append("the environment of the run (`dualpath docs --env NAME`)")
    elif not env.window:
        missing.append(f"a maintenance window (`window` in [environments.{inputs.env}])")
    if needs_approval and not approvers:
        where = f"[environments.{inputs.env}]" if env else "an environment"
        missing.append(f"approvers (`approvers = [...]` in {where}); anyone may approve today")
    if not settings.escalation:
        missing.append("an escalation path (`escalation = [...]` in dualpath.toml)")
    if not oncall:
        missing.append("the on-call mention (`[slack] oncall_mention`)")
    if not channel:
        missing.append("a Slack channel for the run (`[slack] channels` or `slack_channel`)")
    if not settings.sla:
        missing.append("the service level the blocking time is judged against (`sla`)")
    told = set(settings.impact)
    silent = sorted({t for s in inputs.plan.steps if s.blocks != "none" or s.rows for t in s.tables} - told)
    if silent:
        missing.append(f"what users notice on {', '.join(silent)} (`[impact]`); derived from the operations meanwhile")
    return missing
