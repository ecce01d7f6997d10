"""What every part of the runner holds: the target, its engine, the changes, who runs them, and the
facts about a change that decide how it runs."""

from __future__ import annotations

from collections.abc import Sequence

from dualpath.apply.common import Echo, Protect
from dualpath.batching.progress import BatchProgress
from dualpath.batching.spec import has_batches
from dualpath.changes import Change, Statement, any_no_transaction
from dualpath.engines.base import Engine
from dualpath.history import Actor
from dualpath.target import Target


class RunnerBase:
    """The state of a run (runner.py's Runner is made of this and its parts)."""

    def __init__(self, target: Target, engine: Engine, changes: list[Change], actor: Actor,
                 echo: Echo = print, ticket_pattern: str | None = None,
                 progress: BatchProgress | None = None, protect: Protect | None = None,
                 out_of_order: bool = True) -> None:
        self.target, self.engine, self.changes, self.actor, self.echo = target, engine, changes, actor, echo
        self.ticket_pattern = ticket_pattern
        self.safety = target.safety
        self.progress = progress  # batches report here; None = a bar on a terminal, lines elsewhere
        self.protect = protect  # takes a verified backup before destructive changes, or refuses
        self.out_of_order = out_of_order  # False: a change below the last applied version is refused
        self._fresh: dict[str, str] = {}  # version -> attempt, its stale progress retired by this run
        self._attempt: dict[str, str] = {}  # version -> attempt of the change running (dualpath/attempts.py)
        self._no_journal: set[str] = set()  # versions known to hold no statement journal rows: none to read

    def in_transaction(self, change: Change, statements: Sequence[Statement]) -> bool:
        # from what reading collected: a big file is not read again to answer this (sources/lazy.py)
        return (self.engine.transactional_ddl and change.directive("no-transaction") is None
                and not any_no_transaction(statements) and not has_batches(statements))

    def outside_transaction(self, change: Change, statement: Statement) -> bool:
        """Where DDL is transactional, a no-transaction statement must run with no transaction block."""
        return self.engine.transactional_ddl and (
            statement.no_transaction or change.directive("no-transaction") is not None)
