"""The core's Validator (``dualpath.validation.validator``) with Great Expectations.

GX loads on the first call, not on import: a flow that validates nothing never pays its ~3 s.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # names only: importing the validator costs nothing
    from dualpath.validation.baseline import Baseline
    from dualpath.validation.invariants import Invariant
    from dualpath.validation.results import ValidationResult
    from dualpath.validation.settings import ValidationSettings


class GreatExpectations:
    def bind_suites(self, options: ValidationSettings, folder: Path, tenant: str | None) -> Sequence[Any]:
        from dualpath.expectations.project import bind_suites

        return bind_suites(options, folder, tenant)

    def check(self, url: str, invariants: Sequence[Invariant], baseline: Baseline, *, suites: Sequence[Any],
              tenant: str | None, sample_size: int) -> ValidationResult:
        from dualpath.expectations.runner import check

        return check(url, invariants, baseline, suites=suites, tenant=tenant, sample_size=sample_size)
