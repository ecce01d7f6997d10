"""Run one batched statement: chunk after chunk, each in its own short transaction with its checkpoint.

A kill at any instant leaves the last committed chunk and its checkpoint row together, so a
re-run continues right after it: every row is processed exactly once.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from dualpath.batching import checkpoint as cp
from dualpath.batching.chunks import ChunkPlan, plan_chunks
from dualpath.batching.keys import KeyValue, decode_key, encode_key
from dualpath.batching.progress import BatchProgress
from dualpath.batching.spec import BatchSpec, spec_of
from dualpath.batching.throttle import LagGate, LagProbe, Pace, RateLimit, Sleep
from dualpath.changes import Statement
from dualpath.engines.base import Engine
from dualpath.errors import RunFailed, TargetRefused

POLL_S = 0.5  # how often a paused batch looks at its state again


class BatchCancelled(RunFailed):
    """Someone ran `dualpath batches cancel`: the batch stopped after its last chunk."""


@dataclass
class BatchContext:
    """What a batch needs from the run around it."""

    engine: Engine
    version: str
    direction: str
    checksum: str
    run_id: str
    attempt: str  # the change's current attempt (dualpath/attempts.py): only its checkpoints count
    lock_retries: int
    retry_backoff_ms: int
    progress: BatchProgress
    lag_probes: list[LagProbe] = field(default_factory=list)
    sleep: Sleep = time.sleep
    on_retry: Callable[[Statement, int, DBAPIError], None] | None = None


@dataclass
class BatchOutcome:
    rows: int
    keys: int
    chunks: int


def run_batch(conn: Connection, statement: Statement, index: int, ctx: BatchContext,
              row: cp.Checkpoint | None) -> BatchOutcome:
    """Page through the table by key and run the statement on each chunk; resume after ``row``."""
    spec = spec_of(statement)
    plan = plan_chunks(conn, ctx.engine, statement, spec)
    conn.commit()
    checkpoint_id = _open_checkpoint(conn, statement, index, spec, ctx, row)
    current = cp.read(conn, checkpoint_id)
    conn.commit()
    if current.state == cp.DONE:
        return BatchOutcome(current.rows_done, current.keys_done, 0)
    with ctx.engine.batch_isolation(conn):
        return _run_chunks(conn, statement, plan, spec, ctx, current)


def _open_checkpoint(conn: Connection, statement: Statement, index: int, spec: BatchSpec, ctx: BatchContext,
                     row: cp.Checkpoint | None) -> int:
    if row is None:
        with conn.begin():
            return cp.start(conn, version=ctx.version, direction=ctx.direction, index=index,
                            location=statement.where, checksum=ctx.checksum, table_name=spec.table,
                            chunk_size=spec.size, run_id=ctx.run_id, attempt=ctx.attempt)
    refuse_resume(row, statement)
    with conn.begin():
        cp.claim(conn, row.id, ctx.run_id)
    return row.id


def refuse_resume(row: cp.Checkpoint, statement: Statement) -> None:
    """A paused or cancelled batch waits for an operator; an edited file does not resume old progress."""
    if row.state in (cp.PAUSED, cp.CANCELLED):
        by = f" by {row.updated_by}" if row.updated_by else ""
        raise TargetRefused(
            f"the batch of version {row.version} was {row.state}{by} at {row.updated_at:%Y-%m-%d %H:%M:%S} "
            f"after {row.rows_done} row(s); nothing ran", where=statement.where,
            hint=f"continue it: dualpath batches resume --version {row.version}, then run this again; or start "
                 f"over: dualpath batches reset --version {row.version}")


def _run_chunks(conn: Connection, statement: Statement, plan: ChunkPlan, spec: BatchSpec, ctx: BatchContext,
                start: cp.Checkpoint) -> BatchOutcome:
    last = decode_key(start.last_key) if start.last_key else None
    pace = Pace(size=max(1, start.chunk_size), target_ms=spec.target_ms, max_size=spec.max_size)
    rate = RateLimit(spec.max_rows_per_s)
    gate = LagGate(ctx.lag_probes, spec.max_lag_ms / 1000, ctx.progress.noted, sleep=ctx.sleep)
    rows, keys, chunks, failures, complete = start.rows_done, start.keys_done, 0, 0, False
    ctx.progress.started(f"{ctx.version} {spec.table}", _estimate(conn, ctx.engine, spec.table),
                         keys, rows)
    try:
        while True:
            _wait_while_paused(conn, start.id, ctx, statement)
            gate.wait()
            began = time.monotonic()
            try:
                done = _one_chunk(conn, plan, start.id, last, pace.size)
            except DBAPIError as exc:
                failures = _back_off(exc, failures, pace, ctx, statement)
                continue
            if done is None:
                complete = True
                break
            last, chunk_rows, chunk_keys = done
            failures, chunks = 0, chunks + 1
            rows, keys = rows + chunk_rows, keys + chunk_keys
            ctx.progress.advanced(keys, rows, pace.size)
            pace.after_chunk(chunk_keys, (time.monotonic() - began) * 1000)
            ctx.sleep(spec.pause_ms / 1000 + rate.delay_after(chunk_keys))
    finally:
        ctx.progress.finished(keys, rows, complete)
    return BatchOutcome(rows, keys, chunks)


def _one_chunk(conn: Connection, plan: ChunkPlan, checkpoint_id: int, last: KeyValue | None,
               size: int) -> tuple[KeyValue, int, int] | None:
    """One transaction: bound, statement, checkpoint. None when the table is done (marked done)."""
    if conn.in_transaction():
        conn.commit()
    with conn.begin():
        bound = plan.next_bound(conn, last, size)
        if bound is None:
            cp.finish(conn, checkpoint_id)
            return None
        hi, keys = bound
        rows = plan.run_chunk(conn, last, hi)
        cp.advance(conn, checkpoint_id, last_key=encode_key(hi), rows=rows, keys=keys, chunk_size=size)
    return hi, rows, keys


def _back_off(exc: DBAPIError, failures: int, pace: Pace, ctx: BatchContext, statement: Statement) -> int:
    """Lock or statement timeout, or a deadlock the server broke by rolling the chunk back: halve the
    chunk, wait, retry; give up after lock_retries in a row."""
    if conn_lost(exc) or not retryable(ctx.engine, exc):
        raise exc
    if failures >= ctx.lock_retries:
        raise exc
    pace.after_lock_timeout()
    if ctx.on_retry is not None:
        ctx.on_retry(statement, failures, exc)
    ctx.sleep(ctx.retry_backoff_ms * (2 ** failures) / 1000)
    return failures + 1


def retryable(engine: Engine, exc: BaseException) -> bool:
    """The chunk was rolled back as a whole and nothing of it is left: running it again is safe."""
    return engine.is_lock_timeout(exc) or engine.is_statement_timeout(exc) or engine.is_deadlock(exc)


def conn_lost(exc: DBAPIError) -> bool:
    return bool(getattr(exc, "connection_invalidated", False))


def _wait_while_paused(conn: Connection, checkpoint_id: int, ctx: BatchContext, statement: Statement) -> None:
    """Between chunks: a pause from another terminal holds here, a cancel stops the batch."""
    told = False
    while True:
        state = cp.state_of(conn, checkpoint_id)
        conn.commit()
        if state in (cp.RUNNING, cp.DONE):
            if told:
                ctx.progress.noted("resumed")
            return
        if state == cp.CANCELLED:
            row = cp.read(conn, checkpoint_id)
            conn.commit()
            raise BatchCancelled(
                f"version {ctx.version}: batch cancelled{' by ' + row.updated_by if row.updated_by else ''} "
                f"after {row.rows_done} row(s); every chunk done so far is committed", where=statement.where,
                hint=f"to continue later: dualpath batches resume --version {ctx.version}, then dualpath apply "
                     f"again; to start over: dualpath batches reset --version {ctx.version}")
        if not told:
            ctx.progress.noted("paused: waiting for `dualpath batches resume` (or cancel)")
            told = True
        ctx.sleep(POLL_S)


def _estimate(conn: Connection, engine: Engine, table: str) -> int | None:
    """Rows in the table for the ETA; an exact count only where the engine has no estimate."""
    try:
        estimate = engine.estimate_rows(conn, table)
    except DBAPIError:
        estimate = None
    conn.commit()
    return estimate


@contextlib.contextmanager
def lag_probes(conn: Connection, engine: Engine, replica_urls: list[str]) -> Iterator[list[LagProbe]]:
    """The target itself (PostgreSQL sees its replicas there) and each configured replica."""
    from dualpath.engines import open_engine

    with contextlib.ExitStack() as stack:
        probes: list[LagProbe] = [_probe(conn, engine)]
        for url in replica_urls:
            replica = open_engine(url)
            probes.append(_probe(stack.enter_context(replica.connect()), replica))
        yield probes


def _probe(conn: Connection, engine: Engine) -> LagProbe:
    def lag() -> float | None:
        try:
            return engine.replica_lag_s(conn)
        except DBAPIError:
            return None
        finally:
            conn.commit()

    return lag
