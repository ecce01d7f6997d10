"""Validation around a tenant's apply, by the Validator the caller hands in (Great Expectations stays out
of the core)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dualpath import history
from dualpath.apply import Runner
from dualpath.config import Settings
from dualpath.errors import VerificationFailed
from dualpath.validation.results import ValidationResult

if TYPE_CHECKING:

    from dualpath.validation.baseline import Baseline
    from dualpath.validation.invariants import Invariant
    from dualpath.validation.validator import Validator
from dualpath.tenants.targets import TenantTarget


@dataclass
class ValidationPlan:
    url: str
    invariants: list[Invariant]
    baseline: Baseline
    suites: Sequence[Any]  # the validator's own bound suites
    sample_size: int


def prepare_validation(tenant: TenantTarget, settings: Settings, runner: Runner, to_version: str | None,
                       validator: Validator) -> ValidationPlan | None:
    """Before apply: the invariants the pending changes must keep, and their baseline values.
    None when validation is off for this tenant, or nothing is pending."""
    from dualpath.validation.settings import resolve_dir, validation_settings

    options = validation_settings(settings)
    if not options.enabled or not options.validates(tenant.name):
        return None
    with runner.engine.connect() as conn:
        pending = runner.pending_up(runner.states(conn), to_version)
        conn.rollback()
    if not pending:
        return None
    from dualpath.validation.baseline import take_baseline
    from dualpath.validation.invariants import derive_invariants, snapshot_schema

    url = tenant.resolved_url()
    invariants = derive_invariants(pending, snapshot_schema(url), tolerances=options.tolerances)
    suites_dir = resolve_dir(settings, options.suites_dir)
    suites = validator.bind_suites(options, suites_dir, tenant.name) if suites_dir.is_dir() else []
    return ValidationPlan(url, invariants, take_baseline(url, invariants), suites, options.sample_size)


class ValidationFailed(VerificationFailed):
    """A tenant's validation found a broken expectation; ``result`` holds every expectation that ran."""

    def __init__(self, message: str, *, result: ValidationResult | None = None, where: str | None = None,
                 hint: str | None = None) -> None:
        super().__init__(message, where=where, hint=hint)
        self.result = result


def run_validation(tenant: TenantTarget, plan: ValidationPlan | None, validator: Validator,
                   record: Runner | None = None) -> ValidationResult | None:
    """After apply: check the invariants and the project suites; a failure fails the tenant.
    The result (every expectation, observed vs expected) goes into the tenant's audit trail when
    ``record`` is given, and back to the caller for the report; None when nothing needed checking."""
    if plan is None:
        return None
    result = validator.check(plan.url, plan.invariants, plan.baseline, suites=plan.suites, tenant=tenant.name,
                             sample_size=plan.sample_size)
    if record is not None:
        _audit_validation(record, result)
    if not result.passed:
        failed = "; ".join(f"{o.expectation} {o.table}{'.' + o.column if o.column else ''}: observed "
                           f"{o.error or o.observed}, expected {o.expected}" for o in result.failures[:5])
        raise ValidationFailed(f"validation failed on tenant {tenant.name}: {failed}", result=result,
                               hint="the tenant is rolled back with the run; see the report")
    return result


def describe_validation(result: ValidationResult | None) -> str:
    """The one-line verdict of a tenant's validation, for tables and Slack."""
    if result is None:
        return "not needed"
    if result.passed:
        return f"passed ({len(result.outcomes)} expectations)"
    return f"failed ({len(result.failures)} of {len(result.outcomes)} expectations)"


def _audit_validation(runner: Runner, result: ValidationResult) -> None:
    """The run record: the verdict and every expectation's observed and expected values."""
    with runner.engine.connect() as conn, conn.begin():
        history.ensure_tables(conn)
        history.audit(conn, runner.actor, "validation", detail=json.loads(result.to_json()))
