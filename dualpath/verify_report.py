"""What a shadow verification found: each change's result, the run's report, and the failure it raises."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dualpath.errors import VerificationFailed
from dualpath.rehearse import Measured, rehearsal_findings
from dualpath.risk.model import Finding


@dataclass
class ChangeResult:
    version: str
    description: str
    where: str
    ok: bool = True
    problems: list[str] = field(default_factory=list)  # what differs and where to fix it
    measured: list[Measured] = field(default_factory=list)
    data_checked: bool = False
    skipped_down: str | None = None  # why the down was not run (irreversible)
    failed_at: str | None = None  # "forward" | "down" | "up again": the step that failed
    verified: bool = True  # False: not tried, an earlier change's forward failed
    no_rollback: str | None = None  # "harmless" | "not harmless": a change whose rollback runs nothing
    leaves: list[str] = field(default_factory=list)  # what such a change leaves: "table u", "index i gone"
    notes: list[str] = field(default_factory=list)  # the same, each with the statement that made it

    def as_dict(self) -> dict[str, Any]:
        return {"version": self.version, "description": self.description, "file": self.where, "ok": self.ok,
                "problems": self.problems, "data_checked": self.data_checked, "skipped_down": self.skipped_down,
                "failed_at": self.failed_at, "verified": self.verified, "no_rollback": self.no_rollback,
                "leaves": self.leaves, "notes": self.notes, "measured": [m.as_dict() for m in self.measured]}


@dataclass
class Verification:
    target: str
    engine: str
    results: list[ChangeResult] = field(default_factory=list)
    shadow_drift: list[str] = field(default_factory=list)  # shadow vs target before any change
    sample_rows: int = 0
    lock_note: str = ""
    server_notes: list[str] = field(default_factory=list)  # the server's users and roles after verify
    rebuilds: int = 0  # times the shadow was made again after a failure
    measured_findings: list[Finding] = field(default_factory=list)  # DP080/DP081 from a shadow (risk/measure)
    measure_notes: list[str] = field(default_factory=list)  # what could not be measured, and why

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def failed(self) -> list[ChangeResult]:
        return [r for r in self.results if not r.ok and r.verified]

    @property
    def not_verified(self) -> list[ChangeResult]:
        return [r for r in self.results if not r.verified]

    @property
    def measured(self) -> list[Measured]:
        return [m for r in self.results for m in r.measured]

    @property
    def findings(self) -> list[Finding]:
        return rehearsal_findings(self.measured) + self.measured_findings

    def as_dict(self) -> dict[str, Any]:
        return {"target": self.target, "engine": self.engine, "ok": self.ok, "sample_rows": self.sample_rows,
                "shadow_drift": self.shadow_drift, "lock_note": self.lock_note, "server": self.server_notes,
                "rebuilds": self.rebuilds, "changes": [r.as_dict() for r in self.results],
                "measure_notes": self.measure_notes,
                "findings": [f.as_dict() for f in self.findings]}


def require_ok(report: Verification) -> None:
    """Raise VerificationFailed listing every failing change (file:line and why), and those not verified."""
    if report.ok:
        return
    failed, skipped = report.failed, report.not_verified
    lines = [f"{len(failed)} of {len(report.results)} changes do not round-trip:"]
    for result in failed:
        more = f" (and {len(result.problems) - 1} more)" if len(result.problems) > 1 else ""
        lines.append(f"  {result.where}: version {result.version} ({result.description}), "
                     f"{result.failed_at or 'round trip'}: {result.problems[0] if result.problems else 'failed'}{more}")
    if skipped:
        why = skipped[0].problems[0].removeprefix("not verified: ")
        which = (", ".join(r.version for r in skipped) if len(skipped) <= 3
                 else f"{skipped[0].version} to {skipped[-1].version}")
        lines.append(f"  {len(skipped)} change{'s' if len(skipped) != 1 else ''} not verified ({which}): {why}")
    steps = {r.failed_at for r in failed}
    todo = (["fix the forward statement that failed on the shadow"] if "forward" in steps else []) + \
        (["make each rollback undo exactly what its change does"] if steps - {"forward"} else [])
    hint = f"{'; '.join(todo)}, then verify again"
    raise VerificationFailed("\n".join(lines), hint=hint)
