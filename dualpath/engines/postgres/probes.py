"""PostgreSQL: schema-only shadows (pg_dump | psql), this backend's locks from pg_locks, relfilenodes,
and the schema scope of a tenant (schema-per-tenant: ``?options=-csearch_path%3Dtenant_007`` in its URL).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass

from sqlalchemy import Connection, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from dualpath.engines.postgres.dump import libpq_env
from dualpath.engines.probes import CalibrationSql, LockReading, RoleReading, Running, ServerObject, TableStats, poll
from dualpath.engines.verbatim import run_verbatim
from dualpath.errors import DualpathError
from dualpath.redaction import redact

# weakest first; the manual's table "Conflicting Lock Modes"
LOCK_ORDER = ("ACCESS SHARE", "ROW SHARE", "ROW EXCLUSIVE", "SHARE UPDATE EXCLUSIVE", "SHARE",
              "SHARE ROW EXCLUSIVE", "EXCLUSIVE", "ACCESS EXCLUSIVE")
_USER = ("n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'")
_TOOL_HINT = "install the PostgreSQL client (pg_dump, psql) of at least the server's major version"


@dataclass(frozen=True)
class SchemaScope:
    """Which schemas a target owns: every user schema of its database, or (schema-per-tenant) one.

    Names in ``home`` are shown bare, others as ``schema.name``, so the same tables read the same
    in every tenant and in a shadow of it.
    """

    home: str = "public"
    only: str | None = None  # schema-per-tenant: the tenant's schema, nothing else is its

    def where(self, column: str = "n.nspname") -> str:
        """SQL: ``column`` (a schema name) belongs to this scope."""
        if self.only is not None:
            return f"{column} = {sql_literal(self.only)}"
        return _USER.replace("n.nspname", column)

    def qualify(self, schema: str, name: str) -> str:
        return name if schema == self.home else f"{schema}.{name}"


DATABASE_WIDE = SchemaScope()
_OPTION = re.compile(r"^(?:-c|--)(?P<name>[A-Za-z_][\w-]*)=(?P<value>.*)$", re.S)


def sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def scope_of(url: URL) -> SchemaScope:
    """The URL's scope: its search_path's first schema (libpq ``options``), else the whole database."""
    schema = search_path_schema(url)
    return SchemaScope(schema, schema) if schema else DATABASE_WIDE


def search_path_schema(url: URL) -> str | None:
    """The schema a URL's ``options=-c search_path=...`` puts first (where tables are created); None
    without one, or when it starts with ``$user`` (then the schema depends on the role, not the URL)."""
    options = url.query.get("options")
    values = options if isinstance(options, tuple) else (options,) if options else ()
    found: str | None = None
    for option in values:
        for name, value in _libpq_settings(option):
            if name.replace("-", "_").lower() == "search_path":
                found = value  # the last setting wins, as in the server
    if found is None:
        return None
    first = _first_entry(found)
    return None if not first or first == "$user" else first


def _libpq_settings(options: str) -> list[tuple[str, str]]:
    """``-c a=b -cc=d --e=f`` → [(a, b), (c, d), (e, f)]; a backslash escapes a space, as in libpq."""
    tokens = [t.replace("\\ ", " ") for t in re.split(r"(?<!\\)\s+", options.strip()) if t]
    settings: list[tuple[str, str]] = []
    for index, token in enumerate(tokens):
        if token == "-c" and index + 1 < len(tokens):
            token = "-c" + tokens[index + 1]
        match = _OPTION.match(token)
        if match:
            settings.append((match["name"], match["value"]))
    return settings


def _first_entry(search_path: str) -> str:
    """The first schema of a search_path value: unquoted names fold to lower case, quoted ones keep theirs."""
    text = search_path.strip()
    if text.startswith('"'):
        end = 1
        while True:
            end = text.find('"', end)
            if end == -1 or not text.startswith('""', end):
                break
            end += 2
        return text[1:end if end != -1 else len(text)].replace('""', '"')
    return text.split(",", 1)[0].strip().lower()


def copy_schema(source: URL, shadow: URL, scope: SchemaScope = DATABASE_WIDE) -> None:
    """pg_dump --schema-only of ``source`` replayed into ``shadow``; stops at the first error.
    A schema-per-tenant source copies its own schema only, not its neighbours in the database."""
    dump, psql = shutil.which("pg_dump"), shutil.which("psql")
    if not dump or not psql:
        raise DualpathError("pg_dump or psql not found on PATH: cannot copy the schema into a shadow",
                            hint=_TOOL_HINT)
    # a quoted pattern matches exactly that name (no case folding, no wildcards)
    only = ["--schema", '"' + scope.only.replace('"', '""') + '"'] if scope.only is not None else []
    ddl = _run([dump, "--schema-only", "--no-owner", "--no-privileges", *only], libpq_env(source), None)
    _run([psql, "-X", "-q", "-v", "ON_ERROR_STOP=1"], libpq_env(shadow), ddl)


# What a user can make in a database, per catalog: schemas but public, extensions but plpgsql, and what lives in
# public. Extension members go with their extension; indexes, row types and array types with their owner.
_USER_OBJECTS = f"""
SELECT o.type, o.identity FROM (
  SELECT 'pg_namespace'::regclass AS classid, n.oid AS objid, 0 AS rank FROM pg_namespace n
   WHERE {_USER} AND n.nspname <> 'public'
  UNION ALL SELECT 'pg_extension'::regclass, e.oid, 1 FROM pg_extension e WHERE e.extname <> 'plpgsql'
  UNION ALL SELECT 'pg_class'::regclass, c.oid, 2 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S', 'c')
  UNION ALL SELECT 'pg_type'::regclass, t.oid, 3 FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
   WHERE n.nspname = 'public' AND t.typrelid = 0 AND t.typtype <> 'm' AND NOT (t.typcategory = 'A' AND t.typelem <> 0)
  UNION ALL SELECT 'pg_proc'::regclass, p.oid, 4 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
   WHERE n.nspname = 'public'
  UNION ALL SELECT 'pg_collation'::regclass, c.oid, 5 FROM pg_collation c JOIN pg_namespace n
   ON n.oid = c.collnamespace WHERE n.nspname = 'public'
  UNION ALL SELECT 'pg_operator'::regclass, o.oid, 5 FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace
   WHERE n.nspname = 'public'
  UNION ALL SELECT 'pg_ts_config'::regclass, c.oid, 5 FROM pg_ts_config c JOIN pg_namespace n
   ON n.oid = c.cfgnamespace WHERE n.nspname = 'public'
) x CROSS JOIN LATERAL pg_identify_object(x.classid, x.objid, 0) o
WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = x.classid AND d.objid = x.objid AND d.deptype = 'e')
ORDER BY x.rank, o.identity"""


def user_objects(conn: Connection) -> list[tuple[str, str]]:
    """(kind, identity) of what a user made in this database, as pg_identify_object names them; none in a
    database fresh from CREATE DATABASE. The identity is quoted and qualified, ready for DROP."""
    return [(str(kind), str(identity)) for kind, identity in conn.execute(text(_USER_OBJECTS))]


def server_objects(conn: Connection, quote: Callable[[str], str]) -> list[ServerObject]:
    """The cluster's databases and roles (not the built-in pg_*): a database dropped does not take them
    along (maevsi's changes make databases with \\gexec). Databases first: a role owning one cannot go
    before it."""
    databases = conn.execute(text("SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY 1")).scalars()
    names = conn.execute(text("SELECT rolname FROM pg_roles WHERE rolname NOT LIKE 'pg\\_%' ORDER BY 1")).scalars()
    return [ServerObject("database", str(d), f"database {d}", f"DROP DATABASE {quote(str(d))} WITH (FORCE)")
            for d in databases] + [ServerObject("role", str(n), f"role {n}", f"DROP ROLE {quote(str(n))}")
                                   for n in names]


def drop_user_objects(conn: Connection) -> None:
    """Drop each object ``user_objects`` lists: schemas and extensions first, each with what depends on it."""
    for kind, identity in user_objects(conn):
        keyword = "TYPE" if kind == "composite type" else kind.upper()
        conn.exec_driver_sql(f"DROP {keyword} IF EXISTS {identity} CASCADE")


def _run(argv: list[str], env: dict[str, str], stdin: bytes | None) -> bytes:
    done = subprocess.run(argv, env=env, input=stdin, capture_output=True, timeout=3600, check=False)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.decode("utf-8", "replace").strip().splitlines()[-5:])
        password = env.get("PGPASSWORD")
        if password:
            tail = tail.replace(password, "***")
        raise DualpathError(f"{os.path.basename(argv[0])} failed while building the shadow: {redact(tail)}",
                            hint=_TOOL_HINT)
    return done.stdout


def table_storage(conn: Connection, scope: SchemaScope = DATABASE_WIDE) -> dict[str, str]:
    """Table → relfilenode: a new file node means the table was rewritten."""
    rows = conn.execute(text(
        "SELECT n.nspname, c.relname, c.relfilenode FROM pg_class c "
        f"JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'm') AND {scope.where()}"))
    return {scope.qualify(r[0], r[1]): str(r[2]) for r in rows}


def lock_name(mode: str) -> str:
    """pg_locks' ``ShareRowExclusiveLock`` → the catalogue's ``SHARE ROW EXCLUSIVE``."""
    return re.sub(r"(?<!^)(?=[A-Z])", " ", mode.removesuffix("Lock")).upper()


def held_locks(conn: Connection, scope: SchemaScope = DATABASE_WIDE) -> LockReading:
    """Relation locks this backend holds on user tables (read before COMMIT: they are held to its end)."""
    rows = conn.execute(text(
        "SELECT n.nspname, c.relname, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE l.pid = pg_backend_pid() "
        f"AND l.locktype = 'relation' AND l.granted AND c.relkind IN ('r', 'p', 'm') AND {_USER}"))
    locks: dict[str, str] = {}
    for schema, name, mode in rows:
        table, mode = scope.qualify(schema, name), lock_name(mode)
        if lock_rank(mode) > lock_rank(locks.get(table, "")):
            locks[table] = mode
    return LockReading(locks, "pg_locks of the session, before COMMIT")


def measure_outside_transaction(conn: Connection, sql: str, tables: Sequence[str],
                                connect: Callable[[], AbstractContextManager[Connection]],
                                quote: Callable[[str], str], scope: SchemaScope = DATABASE_WIDE) -> LockReading:
    """Locks of a statement that cannot run in a transaction block (CONCURRENTLY, VACUUM), seen from outside.

    It commits before its locks could be read by its own session, so another session holds
    SHARE UPDATE EXCLUSIVE on ``tables`` in an open transaction: every such statement asks for
    at least that mode (CONCURRENTLY, VALIDATE) or a stronger one (VACUUM FULL: ACCESS
    EXCLUSIVE), so it waits with its request visible. A third session reads pg_locks of the
    statement's backend meanwhile: locks granted and locks waited for both count.
    ``conn`` must be in autocommit mode.
    """
    seen: dict[str, str] = {}
    # DROP INDEX names no table, yet locks its table: hold that one, or the drop may finish unseen
    tables = list(tables) or _tables_of_dropped_indexes(conn, sql)
    with ExitStack() as stack:
        watch = stack.enter_context(connect()).execution_options(isolation_level="AUTOCOMMIT")
        holder = stack.enter_context(connect())
        for table in tables:
            name = ".".join(quote(p) for p in table.split("."))
            holder.exec_driver_sql(f"LOCK TABLE {name} IN SHARE UPDATE EXCLUSIVE MODE")
        job = Running(conn, sql, int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() or 0))
        waited = poll(lambda: _look(watch, job.id, seen, scope) or job.done)
        holder.rollback()
        poll(lambda: (_look(watch, job.id, seen, scope), job.done)[1])
        job.join()
    if job.error is not None:
        raise job.error
    how = "it waited behind a SHARE UPDATE EXCLUSIVE holder" if waited and seen else "it never waited"
    return LockReading(seen, f"pg_locks of its backend seen from another session ({how})")


def _tables_of_dropped_indexes(conn: Connection, sql: str) -> list[str]:
    """schema.table of each index a DROP INDEX statement names (that exists)."""
    from pglast import ast, parse_sql
    from pglast.enums import ObjectType

    try:
        stmt = parse_sql(sql)[0].stmt
    except Exception:  # not ours to judge here: the statement itself reports its syntax error
        return []
    if not isinstance(stmt, ast.DropStmt) or stmt.removeType != ObjectType.OBJECT_INDEX:
        return []
    found: list[str] = []
    for parts in stmt.objects or ():
        name = ".".join(p.sval for p in parts)
        row = conn.execute(text(
            "SELECT n.nspname, c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE i.indexrelid = to_regclass(:name)"),
            {"name": name}).first()
        if row is not None:
            found.append(f"{row[0]}.{row[1]}")
    return found


def _look(watch: Connection, pid: int, seen: dict[str, str], scope: SchemaScope) -> bool:
    """Record the backend's relation locks (granted or awaited); True when it waits for any lock."""
    rows = watch.execute(text(
        "SELECT n.nspname, c.relname, l.mode, l.granted, c.relkind FROM pg_locks l "
        "LEFT JOIN pg_class c ON c.oid = l.relation LEFT JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE l.pid = :pid"), {"pid": pid}).all()
    waiting = False
    for schema, name, mode, granted, kind in rows:
        waiting = waiting or not granted
        if name is None or kind not in ("r", "p", "m") or schema in ("pg_catalog", "information_schema") \
                or str(schema).startswith("pg_"):
            continue
        table, mode = scope.qualify(schema, name), lock_name(mode)
        if lock_rank(mode) > lock_rank(seen.get(table, "")):
            seen[table] = mode
    return waiting


def explain_rows(conn: Connection, sql: str) -> int | None:
    """The planner's row estimate for ``sql`` (EXPLAIN, not run); an UPDATE/DELETE's rows are its scan's."""
    try:
        with conn.begin_nested() if conn.in_transaction() else conn.begin():
            plan = run_verbatim(conn, f"EXPLAIN (FORMAT JSON) {sql}").scalar()
    except DBAPIError:  # a table an earlier change creates, say
        return None
    if plan is None:
        return None
    top = (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]
    rows = top.get("Plan Rows", 0)
    if top.get("Node Type") == "ModifyTable" and top.get("Plans"):
        rows = max(rows, top["Plans"][0].get("Plan Rows", 0))
    return int(rows)


def lock_rank(mode: str) -> int:
    """Position in LOCK_ORDER; -1 for none or unknown."""
    bare = mode.split("(")[0].strip().upper()
    return LOCK_ORDER.index(bare) if bare in LOCK_ORDER else -1


def table_sizes(conn: Connection, scope: SchemaScope = DATABASE_WIDE) -> dict[str, TableStats]:
    """Planner row estimates and on-disk size with indexes and TOAST: cheap, no scan."""
    rows = conn.execute(text(
        "SELECT n.nspname, c.relname, greatest(c.reltuples, 0)::bigint, pg_total_relation_size(c.oid) "
        f"FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'm') "
        f"AND {scope.where()}"))
    return {scope.qualify(r[0], r[1]): TableStats(int(r[2] or 0), int(r[3] or 0)) for r in rows}


CALIBRATION = CalibrationSql(
    create="CREATE TABLE {t} (id bigint PRIMARY KEY, k integer NOT NULL, v text NOT NULL)",
    fill="INSERT INTO {t} SELECT g, mod(g::bigint * 7919, 1000003), md5(g::text) FROM generate_series(1, {rows}) g",
    analyze="ANALYZE {t}",
    scan="SELECT count(*) FROM {t} WHERE position('zz' in v) > 0",
    update="UPDATE {t} SET k = k + 1",
    index="CREATE INDEX {t}_k_idx ON {t} (k)",
    metadata="ALTER TABLE {t} ADD COLUMN m integer",
    rewrite="ALTER TABLE {t} ALTER COLUMN k TYPE bigint",
)

# what an operator pastes before, during and after a run (docs: validation checklist)
CHECK_QUERIES = {
    "long transactions": "SELECT pid, usename, now() - xact_start AS open_for, state, left(query, 80) AS query "
                         "FROM pg_stat_activity WHERE xact_start < now() - interval '1 minute' ORDER BY xact_start;",
    "lock waits": "SELECT pid, wait_event_type, wait_event, now() - query_start AS waiting, left(query, 80) AS query "
                  "FROM pg_stat_activity WHERE wait_event_type = 'Lock';",
    "replication lag": "SELECT client_addr, state, replay_lag FROM pg_stat_replication;",
    "database size": "SELECT pg_size_pretty(pg_database_size(current_database()));",
    "invalid indexes": "SELECT indexrelid::regclass FROM pg_index WHERE NOT indisvalid;",
    "unvalidated constraints": "SELECT conrelid::regclass, conname FROM pg_constraint WHERE NOT convalidated;",
}

# the built-in gates (gates.py) by kind; each reads one number, :older_than_s is bound by the gate
GATE_QUERIES = {
    "lock_waits": "SELECT count(*) FROM pg_locks WHERE NOT granted",
    "long_transactions": "SELECT count(*) FROM pg_stat_activity WHERE xact_start < now() - "
                         "make_interval(secs => :older_than_s) AND pid <> pg_backend_pid() "
                         "AND datname = current_database()",
}


# role attributes and built-in roles that reach past one database: a migration needs none of them
_ROLE_POWERS = {"rolcreaterole": "CREATEROLE (creates and alters roles)", "rolbypassrls": "BYPASSRLS",
                "rolreplication": "REPLICATION"}
_SERVER_ROLES = ("pg_execute_server_program", "pg_write_server_files", "pg_read_server_files")


def role_reading(conn: Connection) -> RoleReading:
    """current_user, whether it is a superuser, and its other server-wide powers."""
    row = conn.execute(text(
        "SELECT current_user AS role, rolsuper, rolcreaterole, rolbypassrls, rolreplication "
        "FROM pg_roles WHERE rolname = current_user")).mappings().one()
    if row["rolsuper"]:  # it may do anything: the rest goes without saying
        return RoleReading(str(row["role"]), True)
    broad = [label for column, label in _ROLE_POWERS.items() if row[column]]
    for builtin in _SERVER_ROLES:
        member = conn.execute(text("SELECT CASE WHEN to_regrole(:r) IS NULL THEN false "
                                   "ELSE pg_has_role(current_user, :r, 'MEMBER') END"), {"r": builtin}).scalar()
        if member:
            broad.append(f"member of {builtin}")
    return RoleReading(str(row["role"]), False, tuple(broad))
