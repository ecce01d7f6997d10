"""What was observed when a case ran, and the label it earns: the definition of a hazard, in code.

A hazard (docs/rules/index.md) is a change that, on a large busy table,
1. blocks other sessions' reads or writes while doing work that grows with a table (a rewrite,
   a full scan, an index build, rows copied) — whatever statement of the change took the lock;
2. destroys data (drops a table or column that holds rows, empties a table) or breaks the
   running application (a query it sends fails afterwards);
3. is refused by the server as written, in the transaction the runner gives it;
4. changes a large share of a table's rows in one unbatched statement.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MASS_SHARE = 0.10  # a DML statement that changes at least this share of a table's rows is mass DML
TARGETED_SHARE = 0.02  # ... at most this share: targeted; in between, the case is ambiguous
FULL_SHARE = 0.5  # reading or writing at least half of a table's rows is work that grows with it


@dataclass
class Observed:
    """The measurements of one case; each list holds sentences saying what was seen."""

    refused: str = ""  # the server's error, when the change failed
    blocked: list[str] = field(default_factory=list)  # "orders: reads and writes waited"
    work: list[str] = field(default_factory=list)  # "orders rewritten", "orders scanned (1000 of 1000 rows)"
    lost: list[str] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)
    mass: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)  # locks held, algorithm accepted: shown, not judged
    ambiguous: list[str] = field(default_factory=list)  # measured in the grey zone: change the case

    def reasons(self) -> list[str]:
        """Why the case is a hazard; empty when it is safe."""
        found = []
        if self.refused:
            found.append(f"refused by the server: {self.refused}")
        if self.blocked and self.work:
            found.append(f"{'; '.join(self.blocked)} during {'; '.join(self.work)}")
        return found + self.lost + self.broken + self.mass

    @property
    def hazard(self) -> bool:
        return bool(self.reasons())

    def describe(self) -> str:
        label = "hazard" if self.hazard else "safe"
        seen = self.reasons() or [*self.blocked, *self.work, *self.evidence]
        return f"{label}: {'; '.join(seen) or 'nothing blocked, nothing grew'}"


def dml_share(rows: int, table_rows: int, statement: str, observed: Observed) -> None:
    """Judge one DML statement by the share of the table's rows it changed."""
    if table_rows <= 0:
        return
    share = rows / table_rows
    if share >= MASS_SHARE:
        observed.mass.append(f"one statement changed {rows} of {table_rows} rows: {statement[:60]}")
    elif share > TARGETED_SHARE:
        observed.ambiguous.append(f"changed {rows} of {table_rows} rows: neither targeted nor mass")
