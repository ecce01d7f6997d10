"""``dualpath apply`` with nothing to do, answered as ``status`` is (quick_status.py): without SQLAlchemy,
the runner or the backup gate, whose imports were most of such a run.

It answers only when the usual path (apply/runner.py) would certainly print "nothing to do" and change
nothing but the run lock it takes and gives back: no protected environment (no guard), every change
of the folder applied, as recorded, nothing else in the history (no failure, drift, missing file,
renamed description, unknown direction), dualpath's tables as this dualpath makes them (nothing for
``history.ensure_tables`` to create or add, no column a run refuses), a URL without options (no schema
scope) on an engine whose plain reader can tell that no run holds or awaits the run lock
(engines/<dialect>/plain.py ``run_lock_free``). In any other case, or on any error, the usual path runs.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from dualpath.defaults import QuickSettings
from dualpath.engines.plain import PlainUrl
from dualpath.history.plain import tables_current
from dualpath.quick_status import quick_states

NOTHING_TO_DO = "nothing to do: the target is up to date"  # the runner says it so (apply/runner.py)


def nothing_to_apply(settings: QuickSettings, url_or_name: str | None, migrations: Path | None) -> bool:
    """True only when ``apply`` (without --to) would certainly find nothing to do (module docstring)."""
    if settings.protected:
        return False
    quick = quick_states(settings, url_or_name, migrations, also=_ready)
    return quick is not None and bool(quick.states) and all(
        s.state == "applied" and s.change is not None and s.renamed_from is None for s in quick.states)


def _ready(url: PlainUrl, conn: Any, present: set[str]) -> bool:
    if url.query:
        return False  # options may scope the target to a schema (another lock, another set of tables)
    lock_free = getattr(importlib.import_module(f"dualpath.engines.{url.package}.plain"), "run_lock_free", None)
    return lock_free is not None and bool(lock_free(url, conn)) and tables_current(conn, present)
