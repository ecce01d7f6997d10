"""Measure one case on MariaDB: the cheapest algorithm the server accepts, whether it allows LOCK=NONE,
how many rows it copied, what data is gone and which application queries broke.

An ALTER TABLE (or CREATE/DROP INDEX) that does not name its algorithm is run with
``ALGORITHM=INSTANT``, then ``NOCOPY, LOCK=NONE``, ``INPLACE, LOCK=NONE``, ``NOCOPY``, ``INPLACE``
appended, and as written last: the server refuses a clause it cannot honour without changing
anything, so the first one accepted is what the statement needs. Refusing LOCK=NONE means
writes wait for the whole operation; anything but INSTANT does work that grows with the table,
and so does a statement that reports rows copied (a few accept INSTANT and still copy).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pymysql

from dualpath.sql import split_statements
from tests.corpus.hazard import Observed, dml_share
from tests.corpus.schemas import MY_PROBES, MY_SCHEMA

ATTEMPTS = (("INSTANT", None), ("NOCOPY", "NONE"), ("INPLACE", "NONE"), ("NOCOPY", None), ("INPLACE", None))
_NOT_SUPPORTED = {1845, 1846}  # ER_ALTER_OPERATION_NOT_SUPPORTED(_REASON): refused, nothing changed
_ALTERS = re.compile(r"^\s*(ALTER\s+(ONLINE\s+|IGNORE\s+)?TABLE|CREATE\s+(UNIQUE\s+|FULLTEXT\s+)?INDEX|DROP\s+INDEX)\b",
                     re.I)


@dataclass
class Snapshot:
    columns: dict[str, list[str]]  # table → its columns
    rows: dict[str, int]
    probes: dict[str, str]


def connect(url: str, database: bool = True) -> Any:
    rest = url.split("://", 1)[1]
    creds, where = rest.split("@", 1)
    host_port, _, name = where.partition("/")
    host, _, port = host_port.partition(":")
    user, _, password = creds.partition(":")
    return pymysql.connect(host=host, port=int(port or 3306), user=user, password=password,
                           database=(name.split("?")[0] or None) if database else None, autocommit=True)


def database_of(url: str) -> str:
    return url.rsplit("/", 1)[1].split("?")[0]


def reset(url: str) -> None:
    name = database_of(url)
    with connect(url, database=False) as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        cur.execute(f"CREATE DATABASE `{name}`")
        cur.execute(f"USE `{name}`")
        for statement in split_statements(MY_SCHEMA, file="schema.sql", dialect="mysql"):
            cur.execute(statement.text)
            cur.fetchall()


def measure(url: str, sql: str) -> Observed:
    observed = Observed()
    before = snapshot(url)
    with connect(url) as conn, conn.cursor() as cur:
        try:
            for statement in split_statements(sql, file="case.sql", dialect="mysql"):
                _run(cur, statement.text, before, observed)
        except pymysql.MySQLError as exc:
            observed.refused = str(exc.args[1] if len(exc.args) > 1 else exc)
    _compare(before, snapshot(url), observed)
    return observed


def _run(cur: Any, text: str, before: Snapshot, observed: Observed) -> None:
    if not _ALTERS.match(text) or re.search(r"\b(ALGORITHM|LOCK)\s*=", text, re.I):
        rows = cur.execute(text)
        verb = text.split(None, 1)[0].upper()
        if verb in ("UPDATE", "DELETE", "INSERT", "REPLACE"):
            named = [n for t, n in before.rows.items() if re.search(rf"\b{t}\b", text, re.I)]
            dml_share(rows, max(named, default=0), text, observed)
        elif _ALTERS.match(text) and rows:
            observed.work.append(f"{rows} rows copied")
        return
    table = _table_of(text)
    if table not in before.rows or before.rows[table] == 0:
        cur.execute(text)  # a table created by the change, still empty: nothing to measure
        return
    text = _as_alter(text)
    for algorithm, lock in ATTEMPTS:
        try:
            rows = cur.execute(_with_clause(text, algorithm, lock))
        except pymysql.MySQLError as exc:
            if exc.args[0] in _NOT_SUPPORTED:
                continue
            raise
        _judge(observed, table, algorithm, lock, rows)
        return
    rows = cur.execute(text)
    _judge(observed, table, "COPY", None, rows)


def _judge(observed: Observed, table: str, algorithm: str, lock: str | None, rows: int) -> None:
    observed.evidence.append(f"{table}: ALGORITHM={algorithm}{', LOCK=NONE' if lock else ''} accepted")
    if algorithm != "INSTANT":
        observed.work.append(f"{table}: {'rows copied' if algorithm == 'COPY' else 'built in place'}"
                             f"{f' ({rows} rows)' if rows else ''}")
    elif rows:  # a few statements accept INSTANT and still copy: a copy blocks writes
        observed.work.append(f"{table}: {rows} rows copied although INSTANT was accepted")
        observed.blocked.append(f"{table}: copied, writes wait")
    if algorithm != "INSTANT" and lock is None:
        observed.blocked.append(f"{table}: LOCK=NONE refused, writes wait")


def _as_alter(text: str) -> str:
    """MariaDB's DROP INDEX takes no ALGORITHM clause: measure the ALTER TABLE it stands for."""
    match = re.match(r"^\s*DROP\s+INDEX\s+`?(\w+)`?\s+ON\s+`?(\w+)`?\s*;?\s*$", text, re.I)
    return f"ALTER TABLE `{match.group(2)}` DROP INDEX `{match.group(1)}`" if match else text


def _with_clause(text: str, algorithm: str, lock: str | None) -> str:
    text = text.rstrip().rstrip(";")
    if text.upper().startswith("ALTER"):
        return f"{text}, ALGORITHM={algorithm}" + (f", LOCK={lock}" if lock else "")
    return f"{text} ALGORITHM={algorithm}" + (f" LOCK={lock}" if lock else "")


def _table_of(text: str) -> str:
    match = re.search(r"\b(?:TABLE|ON)\s+`?(\w+)`?", text, re.I)
    return match.group(1).lower() if match else "?"


def snapshot(url: str) -> Snapshot:
    with connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT table_name, column_name FROM information_schema.columns "
                    "WHERE table_schema = DATABASE() ORDER BY table_name, ordinal_position")
        columns: dict[str, list[str]] = {}
        for table, column in cur.fetchall():
            columns.setdefault(table.lower(), []).append(column.lower())
        rows = {}
        for table in columns:
            cur.execute(f"SELECT COUNT(*) FROM `{table}`")
            rows[table] = cur.fetchone()[0]
        probes = {probe: _probe(conn, cur, probe) for probe in MY_PROBES}
    return Snapshot(columns, rows, probes)


def _probe(conn: Any, cur: Any, sql: str) -> str:
    try:
        conn.begin()
        cur.execute(sql)
        cur.fetchall()
    except pymysql.MySQLError as exc:
        return str(exc.args[1] if len(exc.args) > 1 else exc)
    finally:
        conn.rollback()
    return ""


def _compare(before: Snapshot, after: Snapshot, observed: Observed) -> None:
    new_tables = {t: n for t, n in after.rows.items() if t not in before.rows}
    for table, rows in before.rows.items():
        if rows == 0:
            continue
        if table not in after.rows:
            if rows not in new_tables.values():  # a renamed table keeps its rows under its new name
                observed.lost.append(f"table {table} dropped with its {rows} rows")
        elif after.rows[table] == 0:
            observed.lost.append(f"table {table} emptied ({rows} rows)")
        elif len(after.columns[table]) < len(before.columns[table]):
            gone = [c for c in before.columns[table] if c not in after.columns[table]]
            observed.lost.append(f"column(s) {', '.join(gone)} of {table} dropped with their values")
    for probe, error in after.probes.items():
        if error and not before.probes[probe]:
            observed.broken.append(f"the application's query fails: {error} ({probe[:50]}...)")
