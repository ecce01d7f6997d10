"""A dry run: what would run, printed, nothing executed."""

from __future__ import annotations

from dualpath.apply.base import RunnerBase
from dualpath.batching.spec import is_batched
from dualpath.changes import Change
from dualpath.urls import safe_url


class DryRun(RunnerBase):
    """Runner's dry run."""

    def print_dry_run(self, todo: list[Change], direction: str) -> None:
        from dualpath.batching.change import describe_batch

        verb = "apply" if direction == "up" else "roll back"
        self.echo(f"-- dry run: {len(todo)} change(s) to {verb} on {safe_url(self.target.url)}; nothing is executed")
        for sql in self.engine.timeout_statements(self.safety.lock_timeout_ms, self.safety.statement_timeout_ms):
            self.echo(f"{sql};")
        for change in todo:
            statements = change.forward if direction == "up" else change.rollback
            wrapped = self.in_transaction(change, statements)
            self.echo(f"\n-- {change.version} {change.description} ({change.where})")
            if wrapped:
                self.echo("BEGIN;")
            for s in statements:
                self.echo(f"-- {s.where}\n{s.text};")
                if is_batched(s):
                    for line in describe_batch(self.engine, s):
                        self.echo(line)
            self.echo(f"-- then record version {change.version} ({direction}) in dualpath_history")
            if wrapped:
                self.echo("COMMIT;")

