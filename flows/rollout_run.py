"""One run of the migrate flow, as data its steps share: the environment, its tenants in waves, Slack, the
run's identity and what happened so far."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from prefect.runtime import flow_run
from pydantic import ValidationError

from dualpath.errors import DualpathError, InputError, TargetRefused
from dualpath.flows.in_flight import submit_paced
from dualpath.flows.links import ui_base
from dualpath.host_limits import HostLimit, host_limits
from dualpath.plan import Plan
from dualpath.redaction import redact
from dualpath.rollout import (
    Decision,
    Phase,
    PlanFacts,
    TenantOutcome,
)
from dualpath.slack.client import (
    Failure,
    Notifier,
    RunInfo,
    slack_settings,
)
from dualpath.slack.client import State as SlackState  # a Slack status, not a Prefect State
from dualpath.tenants import (
    EnvironmentContext,
    Preflight,
    TenantTarget,
    open_environment,
    plan_waves,
    resolve_tenants,
)

T = TypeVar("T")

START_TIMEOUT_S = 900.0  # fan_out=deployments: a child no worker has started by then is cancelled


@dataclass
class Rollout:
    """The state of one run, passed between the phases below."""

    ctx: EnvironmentContext
    config: str | None
    run_id: str
    targets: list[TenantTarget]
    waves: list[list[TenantTarget]]
    notifier: Notifier
    info: RunInfo
    preflight: dict[str, Preflight] = field(default_factory=dict)
    outcomes: list[TenantOutcome] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    plan_md: str = ""
    started: float = field(default_factory=time.monotonic)
    limits: list[HostLimit] = field(default_factory=list)  # one per database host the tenants live on
    decision: Decision | None = None  # the approver's, when the run needed one
    plan: Plan | None = None  # the full plan of the tenant with the most to do, paths relative to the migrations
    facts: PlanFacts | None = None
    stopped: str | None = None  # why the rollout stopped between waves (the window closed)
    ended: bool = False  # Slack has heard how the run ended (finish); else an error tells it on the way out
    backups: dict[str, Phase] = field(default_factory=dict)  # each tenant's timed backup, for the timeline
    fan_out: str = "in-process"  # or "deployments": each tenant's apply/rollback a child flow run (fan_out.py)
    tenants_per_run: int = 1  # deployments: tenants of a wave per child apply run
    child_start_timeout_s: float = START_TIMEOUT_S  # deployments: a child no worker started by then fails

    @property
    def args(self) -> tuple[str, str | None, str]:
        """(env, config, migrations): what every task needs to rebuild its context."""
        return self.ctx.name, self.config, str(self.ctx.migrations)

    def paced(self, items: Sequence[T], tenant: Callable[[T], TenantTarget], submit: Callable[[T], Any],
              stop_on_failure: bool = False) -> list[tuple[T, Any]]:
        """Each item's task submitted, at most its host's slots of them unfinished at a time (in_flight.py);
        (item, future) pairs in the items' order."""
        slots = {limit.key: limit.slots for limit in self.limits}
        return submit_paced(items, submit, lambda item: tenant(item).concurrency_key, slots,
                            self.ctx.env.host_concurrency, stop_on_failure)


def tell_error(run: Rollout, exc: Exception) -> None:
    """Slack's last word on a run an error ended: refused (the window, lint, gates, the approver list) or failed."""
    message = redact(exc.message if isinstance(exc, DualpathError) else f"{type(exc).__name__}: {exc}")
    if isinstance(exc, TargetRefused):
        run.notifier.run_ended(run.info, SlackState.REFUSED, f"refused: {message}")
    else:
        hint = exc.hint if isinstance(exc, DualpathError) and exc.hint else "see the run's logs in Prefect"
        run.notifier.run_failed(run.info, Failure(what="the run failed", error=message, next_step=hint,
                                                  location=redact(exc.where) if isinstance(exc, DualpathError)
                                                  and exc.where else None))
    run.ended = True


def open_rollout(env: str, selection: str, config: str | None, migrations: str | None) -> Rollout:
    ctx = open_environment(env, config, migrations)
    targets = resolve_tenants(ctx.env, selection)
    limits = host_limits(ctx.settings, env, targets)  # settings that disagree: an input error before anything runs
    waves = plan_waves(targets, ctx.env.wave_size)
    run_id = str(flow_run.id or "local")
    info = RunInfo(run_id=run_id, env=env, target=f"{len(targets)} tenant(s)", window=ctx.env.window,
                   tenants=len(targets), approvers=tuple(ctx.env.approvers), run_name=flow_run.name or None)
    return Rollout(ctx, config, run_id, targets, waves, open_notifier(ctx), info, limits=limits)


def open_notifier(ctx: EnvironmentContext) -> Notifier:
    """Slack for this environment, with links into the Prefect UI this run reports to unless
    ``[slack] prefect_ui_url`` says otherwise; secrets resolved now (never earlier)."""
    try:
        return Notifier(slack_settings(ctx.settings.slack, ctx.name, ctx.env.slack_channel, ui_base()), ctx.name)
    except ValidationError as exc:
        raise InputError(f"[slack] settings: {exc.errors()[0]['msg']}", hint="see docs/configuration.md") from None


def dialect_of(run: Rollout) -> str:
    from dualpath.engines import open_engine

    return open_engine(run.targets[0].resolved_url()).name


def wave_names(run: Rollout) -> list[list[str]]:
    return [[t.name for t in w] for w in run.waves]
