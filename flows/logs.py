"""Keep Prefect's run logs readable: no traceback for a failure dualpath already explained.

Prefect logs every failed task or flow run with ``exc_info``. For a ``DualpathError`` (bad input,
a refused target, a run that failed and was rolled back) the message already names the tenant,
file:line and what to do next, so the traceback is noise on the console and in the UI, and the
CLI promises none. Anything else (a real bug) keeps its traceback.
"""

from __future__ import annotations

import logging

from dualpath.errors import DualpathError

RUN_LOGGERS = ("prefect.flow_runs", "prefect.task_runs")


class ExplainedFailureFilter(logging.Filter):
    """Drops the traceback of records whose exception is (or was caused by) a DualpathError."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and is_explained(exc):
            record.exc_info, record.exc_text = None, None
        return True


def is_explained(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, DualpathError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def quiet_explained_failures() -> None:
    """Install the filter on Prefect's run loggers (once; Prefect logs run events there directly)."""
    for name in RUN_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, ExplainedFailureFilter) for f in logger.filters):
            logger.addFilter(ExplainedFailureFilter())
