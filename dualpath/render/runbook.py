"""Runbook (rollout per environment with commands, gates, success criteria, rollback) and checklist."""

from __future__ import annotations

from dualpath.config import Environment, Settings
from dualpath.estimates import human_seconds
from dualpath.plan import Plan
from dualpath.render.document import Document, Section, Table
from dualpath.render.plan_doc import headline

OVERRUN = 3  # a step running this many times its estimate is a rollback trigger


def environments(settings: Settings) -> list[tuple[str, Environment | None]]:
    """Configured environments in rollout order (as written in dualpath.toml), or the plan's target alone."""
    return list(settings.environments.items()) or [("target", None)]


def _needs(plan: Plan, name: str, env: str | None = None) -> bool:
    return any(p.required for p in plan.prerequisites if p.name == name and p.environment in (None, env))


def _who(plan: Plan, name: str, env: str | None) -> str:
    people = [w for p in plan.prerequisites if p.name == name and p.environment in (None, env) for w in p.who]
    return ", ".join(dict.fromkeys(people)) or "the change owner"


def commands(plan: Plan, env: str | None) -> list[str]:
    target = plan.target
    lines = [f"dualpath verify --url {target}", f"dualpath plan --url {target} --format md"]
    if _needs(plan, "backup", env):
        lines.append(f"dualpath backup create --url {target}")
    lines.append(f"dualpath run --env {env} --approve" if env else f"dualpath apply --url {target}")
    lines.append(f"dualpath status --url {target} --format json")
    return lines


def rollback_commands(plan: Plan) -> list[str]:
    lines = [f"dualpath rollback --url {plan.target} --steps {len(plan.changes)}"]
    if any(c.irreversible for c in plan.changes):
        lines.append("# irreversible changes come back only from the backup taken before the run:\n"
                     "dualpath backup list\ndualpath backup restore --id <backup id> --into <scratch database URL>")
    return lines


def _environment_section(plan: Plan, number: int, name: str, env: Environment | None) -> list[Section]:
    env_name = name if env is not None else None
    facts = []
    if env is not None:
        facts.append(f"Window: {env.window or 'any time'}; tenants: {len(env.tenant_list())} "
                     f"(canary first: {', '.join(t.name for t in env.tenant_list() if t.canary) or 'none'}); "
                     f"waves of {env.wave_size}.")
        if "blue" in name or "green" in name:
            facts.append("Blue/green: migrate the idle colour, check the success criteria, switch traffic, "
                         "then migrate the other colour.")
    gates = ["`dualpath verify` passed: every change round-trips on a shadow"]
    if env is not None and env.window:
        gates.append(f"inside the window {env.window}")
    if _needs(plan, "approval", env_name):
        gates.append(f"approved by {_who(plan, 'approval', env_name)}")
    if _needs(plan, "backup", env_name):
        gates.append("backup created and verified (`dualpath backup verify`)")
    gates += [f"step {s.id}: {g}" for s in plan.steps for g in s.gates]
    heading = f"{number}. {name}"
    return [
        Section(heading, text=facts, code=["\n".join(commands(plan, env_name))]),
        Section(f"{heading}: go / no-go", checks=gates),
        Section(f"{heading}: success criteria", checks=[
            f"`dualpath status` shows {', '.join(c.version for c in plan.changes)} as applied",
            f"total run time below {human_seconds(plan.totals.seconds * OVERRUN)} "
            f"({OVERRUN}× the estimate of {human_seconds(plan.totals.seconds)})",
            "no new errors in the application logs; lock waits back to normal",
        ]),
        Section(f"{heading}: roll back when", tone="danger", items=[
            "a step fails (dualpath rolls a transactional change back by itself; check `dualpath status`)",
            f"a step runs longer than {OVERRUN}× its estimate while holding a blocking lock",
            "lock timeouts persist after the configured retries",
            "error rates or latency breach the SLA during or after the run",
        ], code=rollback_commands(plan)),
    ]


def runbook(plan: Plan, settings: Settings) -> Document:
    sections = [Section("Before you start", checks=[
        f"{p.name}{f' ({p.environment})' if p.environment else ''}: {p.reason}"
        + (f" — {', '.join(p.who)}" if p.who else "") for p in plan.prerequisites if p.required])]
    for number, (name, env) in enumerate(environments(settings), 1):
        sections += _environment_section(plan, number, name, env)
    sections.append(Section("Step by step", table=Table(
        ["Step", "Statement", "Lock", "Blocks", "Expected", "Abort after", "Undo with"],
        [[s.id, s.where, s.lock, s.blocks, human_seconds(s.seconds), human_seconds(s.seconds * OVERRUN),
          ", ".join(s.rollback) or "backup restore"] for s in plan.steps])))
    sections.append(Section("Rollback SQL (what `dualpath rollback` runs)", code=[
        f"-- {s.id} {s.where}\n{s.sql};" for s in reversed(plan.rollback_steps)] or ["-- nothing to roll back"]))
    facts = [("Target", plan.target), ("Expected duration", human_seconds(plan.totals.seconds)),
             ("Rollback duration", human_seconds(plan.totals.rollback_seconds)),
             ("Backup required", "yes" if _needs(plan, "backup") else "no"),
             ("Environments", " → ".join(name for name, _ in environments(settings)))]
    return Document("runbook", "Runbook", headline(plan), facts, sections)


def _queries(plan: Plan, *labels: str) -> list[str]:
    return [f"-- {label}\n{plan.queries[label]}" for label in labels if label in plan.queries]


def checklist(plan: Plan, settings: Settings) -> Document:
    history = ("SELECT version, direction, success, duration_ms, applied_at FROM dualpath_history "
               "ORDER BY id DESC LIMIT 20;")
    pre = [f"{p.name}: {p.reason}" for p in plan.prerequisites if p.required]
    pre += [f"step {s.id}: {g}" for s in plan.steps for g in s.gates]
    pre.append(f"estimates: {'calibrated' if plan.throughput.source == 'measured' else 'run dualpath calibrate'}")
    sections = [
        Section("Pre-run", checks=pre, code=_queries(plan, "long transactions", "replication lag", "database size")),
        Section("During the run", checks=[f"step {s.id} ({s.where}) done within {human_seconds(s.seconds * 3)}"
                                          for s in plan.steps] + ["no session waits on a lock for long"],
                code=_queries(plan, "lock waits", "long transactions")),
        Section("Post-run", checks=[f"version {c.version} applied" for c in plan.changes]
                + ["no invalid indexes or unvalidated constraints left", "application health checks green"],
                code=_queries(plan, "invalid indexes", "unvalidated constraints", "integrity", "foreign keys")
                + [f"-- what dualpath recorded\n{history}"]),
    ]
    facts = [("Target", plan.target), ("Checks", str(sum(len(s.checks) for s in sections))),
             ("Queries", str(sum(len(s.code) for s in sections)))]
    return Document("checklist", "Validation checklist", headline(plan), facts, sections)
