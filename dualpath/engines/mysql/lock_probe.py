"""MySQL/MariaDB: the lock a DDL statement takes, measured on a shadow (Engine.measure_statement)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass

from sqlalchemy import Connection, text

from dualpath.engines.mysql.probes import Quote, errno_of, lock_rank
from dualpath.engines.probes import LockReading, Running, poll
from dualpath.engines.verbatim import run_verbatim

# DDL commits and drops its metadata lock (MDL) before this session could read it, so other
# sessions watch it instead. A "holder" keeps a SHARED_WRITE MDL on each table (an open
# transaction that ran a DELETE matching no row): the DDL then has to wait for whatever lock
# it needs, and PROCESSLIST shows it waiting. While it waits, a reader and a writer try the
# table: a pending SHARED_NO_WRITE (the copy phase of ALGORITHM=COPY) lets reads through and
# holds writes; a pending EXCLUSIVE holds both. Once the holder lets go, a reader or writer
# that gets in while the DDL still runs shows that its main phase allows it. On an empty
# shadow an exclusive lock held for the whole statement looks like the brief one every ALTER
# takes, so the server is also asked: LOCK=NONE, then LOCK=SHARED, is appended and the least
# one it accepts (error 1845/1846 refuses) is its level.

_WAITING_MDL = "Waiting for table metadata lock"
_REFUSED = (1845, 1846)  # ER_ALTER_OPERATION_NOT_SUPPORTED(_REASON): needs a stronger LOCK clause
_SYNTAX = 1064
_LOCK_CLAUSE = re.compile(r"\bLOCK\s*=", re.I)
_ALTER = re.compile(r"^\s*ALTER\s+(ONLINE\s+)?(IGNORE\s+)?TABLE\b", re.I)
_CREATE_INDEX = re.compile(r"^\s*CREATE\s+(OR\s+REPLACE\s+)?(UNIQUE\s+|FULLTEXT\s+|SPATIAL\s+)?INDEX\b", re.I)

Connect = Callable[[], AbstractContextManager[Connection]]


@dataclass
class _TableProbe:
    table: str
    read_waited: bool = False  # while the DDL waited for its lock
    write_waited: bool = False
    read_during: bool = False  # got through while the DDL still ran, after the holder let go
    write_during: bool = False

    def level(self) -> str | None:
        """The LOCK clause the observations prove; None when only "exclusive, maybe briefly" is known."""
        if self.write_during or not self.write_waited:
            return "NONE"
        if self.read_during or not self.read_waited:
            return "SHARED"
        return None


def ladder(sql: str) -> list[tuple[str | None, str]]:
    """(LOCK level asked for, statement) to try in order; the plain statement last."""
    body = sql.strip().rstrip(";").rstrip()
    if _LOCK_CLAUSE.search(body):
        return [(None, body)]
    if _ALTER.match(body):
        return [(level, f"{body}, LOCK={level}") for level in ("NONE", "SHARED")] + [(None, body)]
    if _CREATE_INDEX.match(body):
        return [(level, f"{body} LOCK={level}") for level in ("NONE", "SHARED")] + [(None, body)]
    return [(None, body)]


def measure_ddl(conn: Connection, sql: str, tables: Sequence[str], connect: Connect, quote: Quote) -> LockReading:
    """Run ``sql`` on ``conn`` and measure, from other connections, the lock it holds on ``tables``."""
    if not tables:
        run_verbatim(conn, sql)
        return LockReading({}, "no existing table to probe")
    refused: list[str] = []
    for level, statement in ladder(sql):
        probes, waited, error, pfs = _probe(conn, statement, tables, connect, quote)
        code = errno_of(error)
        if error is not None and level is not None and code in (*_REFUSED, _SYNTAX):
            if code != _SYNTAX:
                refused.append(level)
            continue
        if error is not None:
            raise error
        locks = {p.table: _combine(p, waited, level, refused) for p in probes}
        return LockReading(locks, _method(probes, waited, level, refused, pfs))
    raise AssertionError("the plain statement is always the last rung")  # pragma: no cover


def _combine(probe: _TableProbe, waited: bool, accepted: str | None, refused: list[str]) -> str:
    seen = probe.level() if waited else "NONE"
    if accepted is None and not refused:
        return seen or "EXCLUSIVE"
    server = accepted or "EXCLUSIVE"
    return max(server, seen or "NONE", key=lock_rank)


def _method(probes: list[_TableProbe], waited: bool, accepted: str | None, refused: list[str], pfs: str) -> str:
    parts = ["blocking probe"]
    if not waited:
        parts.append("the DDL never waited for a writer's metadata lock")
    else:
        for p in probes:
            pending = "SHARED_NO_WRITE" if p.write_waited and not p.read_waited else "an exclusive metadata lock"
            during = ("writes ran during it" if p.write_during else "reads ran during it" if p.read_during
                      else "nothing ran during it")
            parts.append(f"{p.table}: the DDL waited for {pending} (reads {'waited' if p.read_waited else 'ran'}, "
                         f"writes {'waited' if p.write_waited else 'ran'}); {during}")
    verdict = [f"refused LOCK={r}" for r in refused] + ([f"accepted LOCK={accepted}"] if accepted else [])
    if verdict:
        parts.append("server " + ", ".join(verdict))
    if pfs:
        parts.append(f"performance_schema: {pfs}")
    return "; ".join(parts)


def _probe(conn: Connection, sql: str, tables: Sequence[str], connect: Connect, quote: Quote
           ) -> tuple[list[_TableProbe], bool, BaseException | None, str]:
    """Run ``sql`` frozen behind a writer, try reads and writes, release, and watch it finish."""
    probes = [_TableProbe(t) for t in tables]
    with ExitStack() as stack:
        watch = stack.enter_context(connect()).execution_options(isolation_level="AUTOCOMMIT")
        holder = stack.enter_context(connect())
        _long_waits(holder)
        for table in tables:
            holder.exec_driver_sql(f"DELETE FROM {quote(table)} WHERE 1 = 0")  # SHARED_WRITE until rollback
        ddl = Running(conn, sql, _session_id(conn))
        waited = poll(lambda: ddl.done or _waiting(watch, ddl.id)) and not ddl.done
        pfs = _pfs_locks(watch, ddl.id) if waited else ""
        tries: list[tuple[_TableProbe, str, Running, Connection]] = []
        if waited:
            for probe in probes:
                for kind, probe_sql in (("write", f"DELETE FROM {quote(probe.table)} WHERE 1 = 0"),
                                        ("read", f"SELECT COUNT(*) FROM {quote(probe.table)} WHERE 1 = 0")):
                    other = stack.enter_context(connect())
                    _long_waits(other)
                    job = Running(other, probe_sql, _session_id(other))
                    poll(lambda job=job: job.done or _waiting(watch, job.id))  # type: ignore[misc]
                    setattr(probe, f"{kind}_waited", not job.done)
                    tries.append((probe, kind, job, other))
        holder.rollback()
        # each try holds what it got in its open transaction, so the DDL cannot finish past it
        poll(lambda: ddl.done or (_waiting(watch, ddl.id)
                                  and all(j.done or _waiting(watch, j.id) for _, _, j, _ in tries)))
        for probe, kind, job, _ in tries:
            if job.done and not ddl.done:
                setattr(probe, f"{kind}_during", True)
        for _, _, job, other in sorted(tries, key=lambda t: not t[2].done):
            job.join()
            other.rollback()
        ddl.join()
    return probes, waited, ddl.error, pfs


def _long_waits(conn: Connection) -> None:
    conn.exec_driver_sql("SET SESSION lock_wait_timeout = 60")


def _session_id(conn: Connection) -> int:
    return int(conn.exec_driver_sql("SELECT CONNECTION_ID()").scalar() or 0)


def _waiting(watch: Connection, session_id: int) -> bool:
    state = watch.execute(text("SELECT STATE FROM information_schema.PROCESSLIST WHERE ID = :i"),
                          {"i": session_id}).scalar()
    return str(state or "").startswith(_WAITING_MDL)


def _pfs_locks(watch: Connection, session_id: int) -> str:
    """The DDL's own metadata locks while it waits, when performance_schema is ON."""
    if not watch.exec_driver_sql("SELECT @@performance_schema").scalar():
        return ""
    rows = watch.execute(text(
        "SELECT m.OBJECT_NAME, m.LOCK_TYPE, m.LOCK_STATUS FROM performance_schema.metadata_locks m "
        "JOIN performance_schema.threads t ON t.THREAD_ID = m.OWNER_THREAD_ID "
        "WHERE t.PROCESSLIST_ID = :i AND m.OBJECT_TYPE = 'TABLE'"), {"i": session_id})
    return ", ".join(f"{name} {kind} {status.lower()}" for name, kind, status in rows)
