"""A change that holds batch statements: every statement commits on its own, with a checkpoint row.

Plain statements of such a change run one per transaction together with their "done" row
(one atomic step where DDL is transactional), batched ones chunk by chunk. A re-run skips
what is done and resumes the batch in flight, so a kill costs at most one chunk of work.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from dualpath.batching import checkpoint as cp
from dualpath.batching.runner import BatchContext, run_batch
from dualpath.batching.spec import is_batched, spec_of
from dualpath.changes import Change, Statement
from dualpath.engines.base import Engine
from dualpath.errors import TargetRefused

# runs a plain statement in its own transaction and calls the hook inside it, before COMMIT
RunPlain = Callable[[Statement, Callable[[Connection], None]], None]


@dataclass
class BatchedRun:
    ran: list[str]  # file:line of each statement done, in order
    rows: dict[str, int]  # rows changed per batched statement


def run_batched_change(conn: Connection, change: Change, statements: Sequence[Statement], ctx: BatchContext,
                       run_plain: RunPlain, ran: list[str]) -> BatchedRun:
    """Run or resume ``statements``; ``ran`` fills as they complete (the caller reports it on failure)."""
    rows = cp.of_change(conn, ctx.version, ctx.direction, ctx.attempt)
    conn.commit()
    refuse_edited(rows, change)
    changed: dict[str, int] = {}
    for index, statement in enumerate(statements):
        row = rows.get(index)
        if row is not None and row.state == cp.DONE:
            ran.append(statement.where)
            changed[statement.where] = row.rows_done
            continue
        if is_batched(statement):
            changed[statement.where] = run_batch(conn, statement, index, ctx, row).rows
        else:
            run_plain(statement, _mark_done(ctx, statement, index))
        ran.append(statement.where)
    return BatchedRun(ran, changed)


def _mark_done(ctx: BatchContext, statement: Statement, index: int) -> Callable[[Connection], None]:
    def mark(conn: Connection) -> None:
        cp.start(conn, version=ctx.version, direction=ctx.direction, index=index, location=statement.where,
                 checksum=ctx.checksum, table_name=None, chunk_size=0, run_id=ctx.run_id, attempt=ctx.attempt,
                 state=cp.DONE)

    return mark


def refuse_edited(rows: dict[int, cp.Checkpoint], change: Change) -> None:
    """Progress recorded for other file contents does not say what is done of these."""
    stale = [r for r in rows.values() if r.checksum != change.checksum]
    if stale:
        raise TargetRefused(
            f"version {change.version} was edited after its batch started ({stale[0].location}, "
            f"{stale[0].rows_done} row(s) done); nothing ran", where=change.where,
            hint="restore the file as it was and run again to resume; or, once you have checked what the "
                 f"earlier run changed, start over: dualpath batches reset --version {change.version}")


def describe_batch(engine: Engine, statement: Statement) -> list[str]:
    """For --dry-run: how the statement will be chunked and the SQL each chunk runs."""
    from dualpath.batching.chunks import restricted_statements

    spec = spec_of(statement)
    first, rest = restricted_statements(engine, statement, spec, spec.key)
    pace = f"size {spec.size} adapting to {spec.target_ms} ms per chunk"
    limits = "".join([f", pause {spec.pause_ms} ms" if spec.pause_ms else "",
                      f", at most {spec.max_rows_per_s} rows/s" if spec.max_rows_per_s else ""])
    return [f"-- batched over {spec.table} by ({', '.join(spec.key)}): {pace}{limits}; "
            "each chunk is one transaction with its checkpoint row",
            f"-- first chunk:\n{_shown(first)};", f"-- later chunks:\n{_shown(rest)};"]


def _shown(sql: str) -> str:
    return sql.replace("\\:", ":")  # text() escapes are not part of the SQL
