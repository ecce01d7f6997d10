"""What a child apply run of several tenants returns, or raises: each tenant's outcome, and the failure that
carries them all to the parent (flows/fan_out.py reads it).

It lives in a module of its own, imported by its package name on both sides: a worker loads the child
flow from its file (``flows/tenant_run.py:tenant_apply``), and a class defined there would be another
class in the parent, which could not catch it.
"""

from __future__ import annotations

from typing import Any

from dualpath.errors import DualpathError, RunFailed


class GroupFailed(RunFailed):
    """Tenants of an apply run failed: the run ends Failed, and ``outcomes`` holds every tenant's (the applied
    ones too, which the parent counts and may roll back). Its text is the first failed tenant's error."""

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None,
                 outcomes: dict[str, dict[str, Any]] | None = None) -> None:
        super().__init__(message, where=where, hint=hint)
        self.outcomes = outcomes or {}


def group_failed(outcomes: dict[str, dict[str, Any]]) -> GroupFailed | None:
    """The failure of a run whose ``outcomes`` hold an error, else None."""
    failed = [(name, o["error"]) for name, o in outcomes.items() if "error" in o]
    if not failed:
        return None
    first: DualpathError = failed[0][1]
    more = f" (and {len(failed) - 1} more of {len(outcomes)} tenants: {', '.join(n for n, _ in failed[1:])})" \
        if len(failed) > 1 else ""
    return GroupFailed(first.message + more, where=first.where, hint=first.hint, outcomes=outcomes)


def portable_error(exc: Exception, tenant: str) -> DualpathError:
    """The tenant's error as the parent will read it: dualpath's own as it is, anything else (a driver's
    error may not survive pickling) as its text."""
    if isinstance(exc, DualpathError):
        return exc
    return RunFailed(f"{type(exc).__name__}: {exc}", where=f"tenant {tenant}",
                     hint="see the child flow run's logs in Prefect")
