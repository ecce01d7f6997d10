"""How long a statement takes and how much it writes, from table sizes and a server's measured throughput.

Throughput constants come from ``dualpath calibrate`` (``.dualpath/calibration-<engine>.json``);
without one, conservative defaults stand in and the plan says so.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from dualpath.engines.probes import TableStats
from dualpath.risk.model import Effect

DML_KINDS = frozenset({"update", "delete"})
CALIBRATION_DIR = ".dualpath"


@dataclass(frozen=True)
class Throughput:
    """Per-engine speeds; ``source`` says whether they were measured or are defaults."""

    engine: str
    insert_rows_per_s: float = 200_000
    scan_rows_per_s: float = 2_000_000
    update_rows_per_s: float = 100_000
    index_rows_per_s: float = 500_000
    rewrite_bytes_per_s: float = 100 * 1024 * 1024
    metadata_s: float = 0.01  # a catalog-only statement, lock granted at once
    index_bytes_per_row: float = 32.0
    source: str = "default"  # "default" | "measured"
    measured_at: str | None = None
    sample_rows: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Estimate:
    seconds: float
    rows: int  # rows touched (read or written)
    wal_bytes: int  # WAL / binlog written
    disk_bytes: int  # extra space needed while it runs (new copy, new index)


def calibration_path(folder: Path, engine: str) -> Path:
    return folder / CALIBRATION_DIR / f"calibration-{engine}.json"


def load_throughput(folder: Path, engine: str) -> Throughput:
    """The calibration saved for ``engine`` under ``folder``, else defaults."""
    path = calibration_path(folder, engine)
    if not path.is_file():
        return Throughput(engine=engine)
    data = json.loads(path.read_text(encoding="utf-8"))
    known = {f.name for f in fields(Throughput)}
    return Throughput(**{k: v for k, v in data.items() if k in known})


def save_throughput(folder: Path, throughput: Throughput) -> Path:
    path = calibration_path(folder, throughput.engine)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(throughput.as_dict(), indent=2) + "\n", encoding="utf-8")
    return path


def estimate_effect(effect: Effect, size: TableStats | None, speed: Throughput) -> Estimate:
    """Seconds and bytes of one operation on a table of ``size`` (None: unknown or new, so empty)."""
    rows, nbytes = (size.rows, size.bytes) if size else (0, 0)
    row_bytes = nbytes / rows if rows else 0.0
    if effect.operation in DML_KINDS:
        return Estimate(rows / speed.update_rows_per_s, rows, int(rows * row_bytes * 2), 0)
    if effect.cost == "rewrite":
        return Estimate(nbytes / speed.rewrite_bytes_per_s, rows, nbytes, nbytes)
    if effect.cost == "build":
        index_bytes = int(rows * speed.index_bytes_per_row)
        return Estimate(rows / speed.index_rows_per_s, rows, index_bytes, index_bytes)
    if effect.cost == "scan":
        return Estimate(rows / speed.scan_rows_per_s, rows, 0, 0)
    return Estimate(0.0, 0, 0, 0)


def human_seconds(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def human_bytes(n: float) -> str:
    for unit, size in (("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} B"
