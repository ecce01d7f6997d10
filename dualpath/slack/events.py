"""What a run tells Slack about, as data: the run, its state, and each event (approval, decision, progress,
failure, completion, rollback, break-glass)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True)
class PlanSummary:
    changes: int = 0
    risks: Mapping[str, int] = field(default_factory=dict)  # severity -> count
    irreversible: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    env: str
    target: str  # a label or a URL; a password in it is redacted
    window: str | None = None
    tenants: int = 0
    approvers: tuple[str, ...] = ()
    ticket: str | None = None
    ticket_url: str | None = None
    plan: PlanSummary | None = None  # None until pre-flight has computed it: no counts are claimed before
    approved_by: str | None = None  # who approved this run (the form, or --approve)
    comment: str | None = None  # the approver's comment
    run_name: str | None = None  # the flow run's name; with the run id it tells two runs of one env apart


@dataclass(frozen=True)
class Approval:
    what: str
    why: str


@dataclass(frozen=True)
class Decided:
    """The approver's answer: approved, or not (rejected, not an approver, no answer in time)."""

    approved: bool
    approver: str
    ticket: str = ""
    comment: str = ""
    reason: str = ""  # why it is no approval


@dataclass(frozen=True)
class Stopped:
    """A rollout stopped between waves (the maintenance window closed): what was done, what is left."""

    reason: str
    tenants_done: int = 0
    tenants_left: int = 0


@dataclass(frozen=True)
class WaveProgress:
    wave: int
    waves: int
    tenants_done: int
    tenants_total: int
    tenants_failed: int = 0
    rows_moved: int = 0
    elapsed_s: float = 0.0


@dataclass(frozen=True)
class Failure:
    what: str
    error: str
    next_step: str
    tenant: str | None = None
    step: str | None = None
    location: str | None = None  # file:line
    rolled_back: tuple[str, ...] = ()


@dataclass(frozen=True)
class Completion:
    duration_s: float
    rows_moved: int = 0
    validations_passed: int = 0
    validations_total: int = 0
    report_url: str | None = None


@dataclass(frozen=True)
class Rollback:
    reason: str
    undone: tuple[str, ...] = ()
    tenants: int = 0
    to_version: str | None = None
    duration_s: float | None = None


@dataclass(frozen=True)
class BreakGlass:
    """Someone bypassed a protected environment's guardrail from a terminal."""

    command: str  # "apply --to 7"
    who: str
    host: str
    reason: str
    target: str  # a label or a URL; a password in it is redacted


class State(StrEnum):
    STARTED = "started"
    AWAITING_APPROVAL = "awaiting approval"
    RUNNING = "running"
    FAILED = "failed"
    COMPLETED = "completed"
    ROLLED_BACK = "rolled back"
    APPROVED = "approved"
    REJECTED = "rejected"
    STOPPED = "stopped"
    UP_TO_DATE = "up to date"
    DRY_RUN = "dry run done"
    REFUSED = "refused"
