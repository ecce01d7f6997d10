"""Great Expectations around a run: built-in invariant suites, project suites, baseline and check.

The only place that imports GX; the core (``dualpath``) hands it Invariants and gets plain results back.
Project suite files live next to this code in ``suites/`` (and in a project's own ``expectations/``).
"""

from __future__ import annotations

import os

# Before GX is imported anywhere: no usage statistics from migration hosts.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

from dualpath.expectations.runner import check  # noqa: E402
from dualpath.validation.baseline import Baseline, take_baseline  # noqa: E402

__all__ = ["Baseline", "check", "take_baseline"]
