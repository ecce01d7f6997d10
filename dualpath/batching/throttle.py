"""How fast a batch may go: chunk size toward a target duration, a rows/s ceiling, replica lag.

Pure arithmetic and a clock, so unit tests drive it without a database.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

LagProbe = Callable[[], float | None]  # seconds behind, None = unknown / no replica
Sleep = Callable[[float], None]
LAG_POLL_S = 1.0


@dataclass
class Pace:
    """Chunk size that keeps each chunk near ``target_ms``: short locks, steady progress."""

    size: int
    target_ms: int
    max_size: int
    min_size: int = 1

    def after_chunk(self, keys: int, elapsed_ms: float) -> None:
        """Scale toward the target; at most x2 or /2 per chunk so one outlier does not swing it."""
        if keys < self.size and elapsed_ms < self.target_ms:
            return  # a short last chunk says nothing about speed
        factor = self.target_ms / max(elapsed_ms, 0.5)
        factor = min(2.0, max(0.5, factor))
        self.size = self.clamp(int(self.size * factor))

    def after_lock_timeout(self) -> None:
        """Smaller chunks hold fewer locks and wait on fewer rows."""
        self.size = self.clamp(self.size // 2)

    def clamp(self, size: int) -> int:
        return max(self.min_size, min(self.max_size, size))


@dataclass
class RateLimit:
    """Sleep so that rows/s over the whole batch stays at or under ``max_rows_per_s`` (0 = none)."""

    max_rows_per_s: int
    clock: Callable[[], float] = time.monotonic
    started: float = field(default=0.0)
    rows: int = 0

    def __post_init__(self) -> None:
        self.started = self.clock()

    def delay_after(self, rows: int) -> float:
        self.rows += rows
        if self.max_rows_per_s <= 0:
            return 0.0
        due = self.rows / self.max_rows_per_s  # seconds the rows so far may take at the limit
        return max(0.0, due - (self.clock() - self.started))


@dataclass
class LagGate:
    """Hold the batch while any replica lags more than ``max_lag_s``; probes at most once a second."""

    probes: list[LagProbe]
    max_lag_s: float
    note: Callable[[str], None]
    sleep: Sleep = time.sleep
    clock: Callable[[], float] = time.monotonic
    checked_at: float = field(default=-1e9)

    def worst(self) -> float | None:
        lags = [lag for lag in (probe() for probe in self.probes) if lag is not None]
        return max(lags) if lags else None

    def wait(self) -> float:
        """Returns the seconds spent waiting."""
        if not self.probes or self.clock() - self.checked_at < LAG_POLL_S:
            return 0.0
        waited = 0.0
        while True:
            self.checked_at = self.clock()
            lag = self.worst()
            if lag is None or lag <= self.max_lag_s:
                return waited
            self.note(f"replica lag {lag:.1f} s > {self.max_lag_s:.1f} s: waiting")
            self.sleep(LAG_POLL_S)
            waited += LAG_POLL_S
