"""Every check of a run's input that needs no statement to have run, made before the first one runs.

Refused input (exit 2) must leave the target as it was, so a run checks all of its changes, in the
direction it runs them, before it changes anything: batch directives against the live schema, the
statements they restrict, and the replicas a batch will watch. What an earlier statement of the same
run creates or alters cannot be checked yet; that alone is left to the moment it is reached.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import Connection, inspect

from dualpath.batching.chunks import restricted_statements
from dualpath.batching.keys import resolve_key, split_table
from dualpath.batching.spec import REPLICAS_ENV, is_batched, replica_urls, spec_of
from dualpath.changes import Change, Statement
from dualpath.engines.base import Engine
from dualpath.errors import ConnectionFailed, DualpathError, InputError
from dualpath.sql.kinds import statement_kind
from dualpath.urls import redact

# statements that change rows, never a table's columns or keys
_DATA_ONLY = {"SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "VALUES", "REPLACE"}


def check_run(conn: Connection, engine: Engine, todo: Sequence[Change], direction: str) -> None:
    """Raise the first input error any change of the run would meet (exit 2), before anything runs."""
    steps = [s for change in todo for s in (change.forward if direction == "up" else change.rollback)]
    batched = [i for i, s in enumerate(steps) if is_batched(s)]
    for i in batched:
        check_batch(conn, engine, steps[i], earlier=steps[:i])
    conn.commit()  # end the read: the run's changes open their own transactions
    if batched:
        check_replicas()


def check_batch(conn: Connection, engine: Engine, statement: Statement, earlier: Sequence[Statement]) -> None:
    """The statement can be cut into key ranges, and its key is a usable key of the table as it stands
    (unless an earlier statement of the run creates or alters the table: then when it is reached)."""
    spec = spec_of(statement)
    restricted_statements(engine, statement, spec, spec.key)
    if any(alters(s, spec.table) for s in earlier):
        return
    schema, name = split_table(spec.table)
    if not inspect(conn).has_table(name, schema=schema):
        raise InputError(f"batch table {spec.table} does not exist, and no earlier statement of this run "
                         "creates it", where=spec.where,
                         hint="check table= in the dualpath:batch directive (and that an earlier change creates it)")
    resolve_key(conn, engine, spec.table, spec.key, spec.where)


def alters(statement: Statement, table: str) -> bool:
    """Could this statement create, alter or drop ``table`` (or its indexes)? Any statement that is not
    plain DML and names it counts: wrongly saying yes only defers the check to run time."""
    if statement_kind(statement.text).split(" ")[0] in _DATA_ONLY:
        return False
    _, name = split_table(table)
    return re.search(rf"(?<![\w$]){re.escape(name)}(?![\w$])", statement.text, re.IGNORECASE) is not None


def check_replicas() -> None:
    """Each URL in DUALPATH_REPLICA_URLS parses and answers: a batch watches their lag from its first chunk."""
    from dualpath.engines import open_engine

    for position, url in enumerate(replica_urls(), start=1):
        try:
            replica = open_engine(url)
            with replica.connect():
                pass
        except ConnectionFailed as exc:
            raise ConnectionFailed(f"replica {position}: {exc.message}; nothing ran",
                                   where=REPLICAS_ENV, hint=exc.hint) from None
        except DualpathError as exc:
            raise InputError(f"replica {position}: {redact(exc.message)}; nothing ran",
                             where=REPLICAS_ENV, hint=f"set {REPLICAS_ENV} to comma-separated database URLs, "
                                                      "e.g. mysql://monitor@replica1:3306/shop") from None
