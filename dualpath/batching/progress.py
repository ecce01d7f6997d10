"""Progress of a batch, reported through a hook: the runner never prints a bar itself.

The CLI passes a ``RichProgress`` (rows done, rate, ETA); flows and tests pass their own or
``EchoProgress``, which writes a line now and then through the runner's echo.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

Echo = Callable[[str], None]


class BatchProgress(Protocol):
    def started(self, label: str, total: int | None, keys_done: int, rows_done: int) -> None: ...

    def advanced(self, keys_done: int, rows_done: int, chunk_size: int) -> None: ...

    def noted(self, message: str) -> None: ...

    def finished(self, keys_done: int, rows_done: int, complete: bool = True) -> None: ...


class EchoProgress:
    """A line every ``every_s`` seconds and one at the end: fit for logs and non-terminals."""

    def __init__(self, echo: Echo, every_s: float = 5.0) -> None:
        self.echo, self.every_s = echo, every_s
        self.label, self.since, self.last = "", time.monotonic(), 0.0
        self.total: int | None = None
        self.first_rows = 0

    def started(self, label: str, total: int | None, keys_done: int, rows_done: int) -> None:
        self.label, self.total, self.since, self.last = label, total, time.monotonic(), time.monotonic()
        self.first_rows = rows_done
        resumed = f", resuming after {keys_done} row(s)" if keys_done else ""
        self.echo(f"batch {label}: ~{total if total is not None else '?'} row(s){resumed}")

    def advanced(self, keys_done: int, rows_done: int, chunk_size: int) -> None:
        if time.monotonic() - self.last >= self.every_s:
            self.last = time.monotonic()
            rate = (rows_done - self.first_rows) / max(self.last - self.since, 1e-6)
            self.echo(f"batch {self.label}: {rows_done} row(s) changed, {keys_done} scanned, "
                      f"{rate:.0f} rows/s, chunk {chunk_size}")

    def noted(self, message: str) -> None:
        self.echo(f"batch {self.label}: {message}")

    def finished(self, keys_done: int, rows_done: int, complete: bool = True) -> None:
        if complete:
            self.echo(f"batch {self.label}: done, {rows_done} row(s) changed, {keys_done} scanned")
        else:  # cancelled, failed or interrupted: what is committed stays, the rest is not done
            self.echo(f"batch {self.label}: stopped, not done: {rows_done} row(s) changed so far, "
                      f"{keys_done} scanned")


class RichProgress:
    """A Rich progress bar on the given console: rows scanned of the estimate, rate and ETA."""

    def __init__(self, console: Any = None) -> None:
        self.console = console
        self.bar: Any = None
        self.task: Any = None

    def started(self, label: str, total: int | None, keys_done: int, rows_done: int) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TaskProgressColumn(), TextColumn("{task.fields[rows]} changed"),
                            TextColumn("{task.fields[rate]} rows/s"), TimeElapsedColumn(), TimeRemainingColumn(),
                            console=self.console, transient=False)
        self.bar.start()
        total_at_least = max(total or 0, keys_done) or None
        self.task = self.bar.add_task(label, total=total_at_least, completed=keys_done, rows=rows_done, rate="-")
        self.since, self.first = time.monotonic(), rows_done

    def advanced(self, keys_done: int, rows_done: int, chunk_size: int) -> None:
        if self.bar is None:
            return
        task = self.bar.tasks[0]
        if task.total is not None and keys_done > task.total:  # the estimate was low
            self.bar.update(self.task, total=keys_done)
        rate = (rows_done - self.first) / max(time.monotonic() - self.since, 1e-6)
        self.bar.update(self.task, completed=keys_done, rows=rows_done, rate=f"{rate:,.0f}")

    def noted(self, message: str) -> None:
        if self.bar is not None:
            self.bar.console.print(message, markup=False)

    def finished(self, keys_done: int, rows_done: int, complete: bool = True) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=keys_done, total=keys_done if complete else None, rows=rows_done)
            self.bar.stop()
            self.bar = None


def default_progress(echo: Echo) -> BatchProgress:
    """A bar on a terminal (stderr, so piped output stays clean), lines elsewhere."""
    import sys

    if sys.stderr.isatty():
        from rich.console import Console

        return RichProgress(Console(stderr=True))
    return EchoProgress(echo)


class TimedProgress:
    """Forwards to ``inner`` and keeps each batched statement's stretch (epoch seconds, rows changed, done or
    not): the rollout timeline draws one bar per batch inside its change."""

    def __init__(self, inner: BatchProgress) -> None:
        self.inner = inner
        self.spans: list[tuple[str, float, float, int, bool]] = []  # label, start, end, rows, complete
        self._open: tuple[str, float] | None = None

    def started(self, label: str, total: int | None, keys_done: int, rows_done: int) -> None:
        self._open = (label, time.time())
        self.inner.started(label, total, keys_done, rows_done)

    def advanced(self, keys_done: int, rows_done: int, chunk_size: int) -> None:
        self.inner.advanced(keys_done, rows_done, chunk_size)

    def noted(self, message: str) -> None:
        self.inner.noted(message)

    def finished(self, keys_done: int, rows_done: int, complete: bool = True) -> None:
        if self._open is not None:
            label, start = self._open
            self.spans.append((label, start, time.time(), rows_done, complete))
            self._open = None
        self.inner.finished(keys_done, rows_done, complete)
