"""``dualpath apply`` over the driver alone in the plain case: importing SQLAlchemy, pydantic (without a
dualpath.toml), the runner and the backup gate was most of a small apply's time (issue 14: 500 small
changes against dbmate, a Go binary). On every engine an apply with nothing to do is told so here; on
PostgreSQL the pending changes are applied here too.

It takes only a run that the usual path (apply/runner.py) would run the same way, statement for statement:

- no protected environment (no guard) and no [backup] settings; a URL without options (no schema scope);
  no run holding or awaiting the run lock (engines/<dialect>/plain.py ``run_lock_free``); the folder from
  its cache (quick_status.py);
- dualpath's tables as this dualpath makes them, or none yet (then created from the DDL SQLAlchemy emits:
  engines/postgres/plain.py ``TABLES_DDL``); no statement journal or batch checkpoint rows;
- every change applied as recorded, the pending ones after them in version order (nothing failed,
  drifted, missing, renamed or out of order);
- each pending change a plain transactional one with a way back: no directive, no SET, no ``\\gexec``, no
  batch, no no-transaction statement, no Liquibase precondition, not repeatable, and no word that could
  destroy data (backup_words.py), which the usual path's backup gate must judge.

A change runs as the runner sends it (engines/postgres/transaction.py): BEGIN, its statements, its history
and audit rows (history/record_rows.py), COMMIT; here up to 50 changes travel in one message, each still its
own transaction, and the server stops the message at the first error (that change's transaction is rolled
back, none after it runs). Only a message's last commit waits for the disk (``_NO_WAIT``): nothing is said
applied before it is durable. The run lock and the timeouts are the Engine's. When anything fails,
the change is left to the usual path, which runs it again with its retries, its failure record and its
error naming the statement: what was applied here stays applied and recorded, as the runner leaves it.
"""

from __future__ import annotations

import contextlib
import importlib
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from dualpath.backup_words import may_destroy
from dualpath.changes import Change, is_repeatable
from dualpath.defaults import QuickSettings
from dualpath.engines.plain import PlainUrl, parse_plain, tables_present
from dualpath.history.actor import Actor, make_actor
from dualpath.history.plain import ATTEMPT_TABLES, HISTORY, TABLES, tables_current
from dualpath.history.record_rows import record_rows, record_sql
from dualpath.quick_status import QuickTarget, quick_states
from dualpath.status import ChangeState

NOTHING_TO_DO = "nothing to do: the target is up to date"  # the runner says it so (apply/runner.py)
# Changes sent in one message (each still its own transaction, committed before the next begins): a round
# trip per change was a tenth of a 500-change apply. The server stops a message at its first error, so
# nothing after a failed change runs; ~1 MiB of SQL at most, so that a message stays a message.
GROUP_CHANGES = 50
GROUP_BYTES = 1 << 20
# Every statement of a message has the message's statement_timestamp(); a change's record marks its end (a
# setting of this session) for the next change's duration: the later of the two is where a change began.
_ELAPSED_MS = ("(EXTRACT(EPOCH FROM pg_catalog.clock_timestamp() - GREATEST(pg_catalog.statement_timestamp(), "
               "pg_catalog.current_setting('dualpath.change_ended', true)::timestamptz)) * 1000)::integer")
_MARK_END = "pg_catalog.set_config('dualpath.change_ended', pg_catalog.clock_timestamp()::text, false)"
# Commits inside a message do not wait for the disk (synchronous_commit, this session only); the message's
# last commit does, and WAL is written in order, so every change of a message is durable before any is said
# applied. A server crash in between loses whole changes with their history rows, none said applied.
_NO_WAIT = "SET synchronous_commit = off"
_WAIT = "SET LOCAL synchronous_commit = on"
_RETURNED = "dualpath_ms"
# a statement that opens or ends a transaction (after any leading comments)
_TRANSACTION_CONTROL = re.compile(r"\s*(?:--[^\n]*\n\s*|/\*.*?\*/\s*)*(?:begin|start\s+transaction|commit|end|abort"
                                  r"|rollback|savepoint|release|prepare\s+transaction)\b", re.IGNORECASE | re.DOTALL)

Echo = Callable[[str], None]


def apply_plainly(settings: QuickSettings, url_or_name: str | None, migrations: Path | None, echo: Echo,
                  run_id: str) -> bool:
    """True: the apply is done here (every pending change applied, or nothing to do, said). False: the
    usual path must run (as run ``run_id``); it finds what this one applied recorded and goes on from there."""
    if settings.protected or (settings.full is not None and settings.full.backup):
        return False
    quick = quick_states(settings, url_or_name, migrations, also=_ready)
    url = parse_plain(quick.target.url) if quick is not None else None
    todo = plain_todo(quick.states) if quick is not None else None
    if quick is None or todo is None or url is None:
        return False
    if not todo:
        echo(NOTHING_TO_DO)
        return True
    if not _can_apply(url):
        return False
    actor = make_actor(run_id, quick.target.migrations, settings.applied_by)
    return _apply(url, todo, actor, quick.target, settings.ticket_pattern, echo)


def plain_todo(states: Sequence[ChangeState]) -> list[Change] | None:
    """The pending changes, when the states are applied ones followed by plain pending ones; else None."""
    todo: list[Change] = []
    for state in states:
        if state.change is None or state.renamed_from is not None:
            return None
        if state.state == "applied" and not todo:
            continue
        if state.state != "pending" or not is_plain(state.change):
            return None
        todo.append(state.change)
    return todo


def is_plain(change: Change) -> bool:
    """A change the runner would run in one transaction, with nothing to ask, back up or reset first, and
    that ends no transaction of its own (where the disk is waited for is this module's business)."""
    return (not change.directives and bool(change.rollback) and not change.changes_session
            and "preconditions" not in change.extra and not is_repeatable(change.version)
            and all(not (s.directives or s.no_transaction or s.gexec or may_destroy(s.text)
                         or _TRANSACTION_CONTROL.match(s.text)) for s in change.forward))


def _ready(url: PlainUrl, conn: Any, present: set[str]) -> bool:
    """No URL options (they may scope the target to a schema: another lock, other tables), no run holding or
    awaiting the lock, dualpath's tables current (on PostgreSQL: or none yet), and on PostgreSQL no
    statement in flight nor batch under way (the runner settles those first)."""
    if url.query:
        return False
    lock_free = getattr(_dialect(url), "run_lock_free", None)
    if lock_free is None or not lock_free(url, conn):
        return False
    if not present:
        return _can_apply(url)
    if not tables_current(conn, present):
        return False
    if not _can_apply(url):
        return True  # nothing to apply is all this path tells on the other engines
    cursor = conn.cursor()
    cursor.execute(" UNION ALL ".join(f"(SELECT 1 FROM {table} LIMIT 1)" for table in ATTEMPT_TABLES))
    return cursor.fetchone() is None


def _apply(url: PlainUrl, todo: list[Change], actor: Actor, target: QuickTarget, ticket_pattern: str,
           echo: Echo) -> bool:
    from psycopg import Error
    from psycopg.adapt import Transformer

    pg = _dialect(url)
    try:
        with _run_lock(url, actor) as got:
            if not got:
                return False  # the usual path names the run that holds it
            conn = pg.connect(url)
            try:
                quoting, encoding = Transformer.from_context(conn), conn.info.encoding

                def literal(value: Any) -> str:
                    return bytes(quoting.as_literal(value)).decode(encoding)

                conn.execute("; ".join([*pg.timeout_sql(target.lock_timeout_ms, target.statement_timeout_ms),
                                        _NO_WAIT]))
                if not tables_present(url, conn, TABLES):
                    conn.execute(f"BEGIN;\n{pg.TABLES_DDL}\nCOMMIT")
                # before PostgreSQL 13 statement_timeout counted a whole message, not each statement in it
                per_message = GROUP_CHANGES if conn.info.server_version >= 130000 else 1
                for group in groups_of(todo, per_message, GROUP_BYTES):
                    sql = ";\n".join(_change_sql(c, actor, ticket_pattern, literal, c is group[-1])
                                     for c in group)
                    done = _run_group(conn, sql, group, actor)
                    for change, ms in done:
                        echo(f"applied {change.version} {change.description} ({ms} ms)")
                    if len(done) < len(group):
                        return False  # the usual path runs the change that failed again, and tells it
            finally:
                conn.close()
    except Error:
        return False  # connecting, the lock, the timeouts, the tables: the usual path meets it and tells it
    return True


def groups_of(todo: Sequence[Change], per_message: int, max_bytes: int) -> list[list[Change]]:
    """Consecutive changes, at most ``per_message`` and ``max_bytes`` of SQL to a message (a bigger change alone)."""
    groups: list[list[Change]] = []
    size = 0
    for change in todo:
        length = sum(len(s.text) for s in change.forward)
        if not groups or len(groups[-1]) >= per_message or size + length > max_bytes:
            groups.append([])
            size = 0
        groups[-1].append(change)
        size += length
    return groups


def _run_group(conn: Any, sql: str, group: list[Change], actor: Actor) -> list[tuple[Change, int]]:
    """The changes of ``sql`` that committed, each with the milliseconds its history row records."""
    from psycopg import Error
    from psycopg.pq import TransactionStatus

    cursor = conn.cursor()
    try:
        cursor.execute(sql)
    except Error:
        if conn.closed:
            return []  # the usual path reconnects and reads what the history holds
        if conn.info.transaction_status != TransactionStatus.IDLE:
            conn.execute("ROLLBACK")
        # a commit that waits for the disk, after those of the message that did not: said applied, they stay
        conn.execute(f"BEGIN; {_WAIT}; SELECT pg_catalog.txid_current(); COMMIT")
        found = conn.execute(f"SELECT version, duration_ms FROM {HISTORY} WHERE run_id = %s",
                             (actor.run_id,)).fetchall()
        recorded = {str(version): int(ms) for version, ms in found}
        done: list[tuple[Change, int]] = []
        for change in group:  # the server stops at the first error: what committed is a prefix
            if change.version not in recorded:
                break
            done.append((change, recorded[change.version]))
        return done
    ms: list[int] = []
    while True:
        if cursor.description is not None and cursor.description[0].name == _RETURNED:
            ms.append(int(cursor.fetchone()[0]))
        if not cursor.nextset():
            break
    return list(zip(group, ms, strict=True))


def _change_sql(change: Change, actor: Actor, ticket_pattern: str, literal: Callable[[Any], str],
                last: bool) -> str:
    """The change's statements, its history and audit rows and COMMIT, as the runner sends them; the ``last``
    of a message waits for the disk. The ';' on a line of its own: a statement may end in a -- comment."""
    history, audit = record_rows(actor, version=change.version, description=change.description,
                                 checksum=change.checksum, direction="up", duration_ms=0, success=True,
                                 detail=None, action="apply", ticket=change.ticket_by(ticket_pattern),
                                 audit_detail={"success": True, "file": change.where})
    body = "".join(f"{s.text}\n;\n" for s in change.forward)
    record = record_sql(history, audit, literal, server_elapsed=_ELAPSED_MS,
                        returning=f"(SELECT duration_ms FROM history_row) AS {_RETURNED}, {_MARK_END}")
    return f"BEGIN;\n{_WAIT + ';' if last else ''}\n{body}{record};\nCOMMIT"


def _dialect(url: PlainUrl) -> Any:
    """engines/<dialect>/plain.py of the URL."""
    return importlib.import_module(f"dualpath.engines.{url.package}.plain")


def _can_apply(url: PlainUrl) -> bool:
    """Does the dialect's plain module apply changes (``PLAIN_APPLY``: it has its tables' DDL, the run lock
    and transactional DDL sent in one message)? The others are told here only that nothing is to do."""
    return bool(getattr(_dialect(url), "PLAIN_APPLY", False))


@contextlib.contextmanager
def _run_lock(url: PlainUrl, actor: Actor) -> Iterator[bool]:
    """The Engine's run lock (PostgresEngine.run_lock): a session advisory lock on a connection of its own,
    which names the run and its host; the server drops it if this process dies."""
    from dataclasses import replace

    pg = _dialect(url)
    key = pg.advisory_key(url.database)
    tagged = replace(url, query={"application_name": f"dualpath run {actor.run_id} on {actor.host}"})
    conn = pg.connect(tagged)
    try:
        cursor = conn.cursor()
        cursor.execute(pg.lock_sql(actor.run_id, actor.host, "%s"), (key,))
        row = cursor.fetchone()
        got = bool(row and row[0])
        try:
            yield got
        finally:
            if got:
                with contextlib.suppress(Exception):
                    conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
    finally:
        conn.close()
