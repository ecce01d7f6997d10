"""What runs expectations on a database, as the core sees it.

The core never imports Great Expectations, not even inside a function: ``tasks/`` and the CLI
hand it a Validator (``dualpath.expectations.GreatExpectations``), and the core calls only this.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # names only: importing the validator costs nothing
    from dualpath.validation.baseline import Baseline
    from dualpath.validation.invariants import Invariant
    from dualpath.validation.results import ValidationResult
    from dualpath.validation.settings import ValidationSettings


class Validator(Protocol):
    def bind_suites(self, options: ValidationSettings, folder: Path, tenant: str | None) -> Sequence[Any]:
        """The project suites in ``folder`` that ``tenant`` runs (``[[validation.bindings]]``); opaque to the core."""
        ...

    def check(self, url: str, invariants: Sequence[Invariant], baseline: Baseline, *, suites: Sequence[Any],
              tenant: str | None, sample_size: int) -> ValidationResult:
        """Evaluate ``invariants`` against ``baseline`` and run ``suites``; a failure is in the result, not raised."""
        ...
