"""Live context for lint: table sizes and row estimates read from the target server."""

from __future__ import annotations

from dataclasses import dataclass

# rough sequential rewrite speed of a busy production server; only for the order of magnitude
REWRITE_BYTES_PER_S = 100 * 1024 * 1024


@dataclass(frozen=True)
class TableSize:
    rows: int
    bytes: int

    @property
    def rewrite_seconds(self) -> float:
        return self.bytes / REWRITE_BYTES_PER_S

    def describe(self) -> str:
        return f"~{human_count(self.rows)} rows, {human_bytes(self.bytes)}, " \
               f"rewrite or scan ≈ {human_seconds(self.rewrite_seconds)}"


def human_count(n: int) -> str:
    for unit, size in (("G", 10**9), ("M", 10**6), ("k", 10**3)):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return str(n)


def human_bytes(n: int) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} B"


def human_seconds(s: float) -> str:
    if s < 1:
        return "<1 s"
    if s < 120:
        return f"{s:.0f} s"
    if s < 7200:
        return f"{s / 60:.0f} min"
    return f"{s / 3600:.1f} h"
