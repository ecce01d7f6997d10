"""Validation results as plain data: JSON for the run record and report, Markdown for a Prefect artifact."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Outcome:
    """One expectation's verdict, named by the table and column it is about."""

    expectation: str  # GX expectation type, e.g. expect_table_row_count_to_equal
    table: str
    column: str | None
    success: bool
    observed: Any = None
    expected: Any = None
    source: str = ""  # invariant kind ("not_null", ...) or "suite:<name>"
    why: str = ""
    error: str | None = None  # the expectation could not be evaluated (bad query, missing column)


@dataclass
class ValidationResult:
    target: str  # URL without password
    tenant: str | None = None
    phase: str = "check"
    passed: bool = True
    seconds: float = 0.0
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.success]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), default=str, indent=2)


def to_markdown(result: ValidationResult) -> str:
    """A short table for a Prefect artifact or the report: failures first."""
    verdict = "passed" if result.passed else f"**failed** ({len(result.failures)} of {len(result.outcomes)})"
    head = f"### Validation {verdict}: {result.tenant or result.target}\n\n"
    rows = ["| | expectation | table.column | observed | expected | why |", "|---|---|---|---|---|---|"]
    for o in sorted(result.outcomes, key=lambda o: (o.success, o.table, o.column or "")):
        where = f"{o.table}.{o.column}" if o.column else o.table
        observed = o.error or o.observed
        rows.append(f"| {'✅' if o.success else '❌'} | `{o.expectation}` | {cell(where)} | {cell(observed)} "
                    f"| {cell(o.expected)} | {cell(o.why or o.source)} |")
    return head + "\n".join(rows) + f"\n\n{len(result.outcomes)} expectations in {result.seconds:.2f} s\n"


def cell(value: Any) -> str:
    text = ("" if value is None else str(value)).replace("|", "\\|").replace("\n", " ")
    return (text[:77] + "...") if len(text) > 80 else text
