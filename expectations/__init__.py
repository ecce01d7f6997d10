"""Great Expectations around a run: built-in invariant suites, project suites, baseline and check.

The only place that imports GX. The core (``dualpath``) defines the ``Validator`` protocol
(``dualpath.validation.validator``); ``GreatExpectations`` is its implementation, handed to the core
by ``tasks/`` and the CLI. ``runner.check`` and ``project.bind_suites`` are the GX code itself.
Project suite files live next to this code in ``suites/`` (and in a project's own ``expectations/``).
"""

from __future__ import annotations

import os

# Before GX is imported anywhere: no usage statistics from migration hosts.
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

from dualpath.expectations.validator import GreatExpectations  # noqa: E402

__all__ = ["GreatExpectations"]
