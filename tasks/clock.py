"""The time flows and tasks read and wait on, in one place: a test sets it to drive a window that closes
after the approval or between waves, or a worker that starts a run a moment early, without real waiting.
Callers use ``clock.now()`` and ``clock.sleep()`` through the module, never a copied name."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def sleep(seconds: float) -> None:
    time.sleep(max(0.0, seconds))
