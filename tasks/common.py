"""What every dualpath task shares: which failures are worth a retry, and a logger-backed echo."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from prefect import get_run_logger
from prefect.cache_policies import NO_CACHE

import dualpath.tasks.secrets  # noqa: F401  (secret references resolve inside runs)
from dualpath.errors import ConnectionFailed, DualpathError, LockTimeout
from dualpath.redaction import redact

# Tasks take plain strings and rebuild what they need; results are not cached between runs,
# because a migration must never be skipped as "already done" by a cache.
TASK_OPTIONS: dict[str, Any] = {"cache_policy": NO_CACHE, "retry_delay_seconds": [1, 5, 15]}

F = TypeVar("F", bound=Callable[..., Any])

_TRANSIENT_WORDS = ("connection reset", "server closed the connection", "connection refused",
                    "could not connect", "lost connection", "gone away", "timeout expired", "deadlock")


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: the network blinked, a lock was busy, a deadlock victim. Never a bad statement."""
    if isinstance(exc, ConnectionFailed | LockTimeout):
        return True
    text = str(exc).lower()
    return any(word in text for word in _TRANSIENT_WORDS)


def retry_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect's retry_condition_fn: retry only transient faults."""
    try:
        state.result()
    except Exception as exc:
        return is_transient(exc)
    return False


def log_echo() -> Callable[[str], None]:
    """The core's echo, into the task run's log (redacted: URLs may carry passwords)."""
    logger = get_run_logger()
    return lambda line: logger.info(redact(line))


def names_tenant(fn: F) -> F:
    """A tenant task's explained failure says which tenant ("tenant c: V5__x.sql:3: ..."): in a
    fan-out over hundreds of tenants, an error without it cannot be acted on."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except DualpathError as exc:
            tenant = kwargs.get("tenant") or next((a for a in args if hasattr(a, "concurrency_key")), None)
            label = f"tenant {tenant.name}" if tenant is not None else None
            if label and not (exc.where or "").startswith(label):
                exc.where = f"{label}: {exc.where}" if exc.where else label
            raise
    return wrapper  # type: ignore[return-value]
