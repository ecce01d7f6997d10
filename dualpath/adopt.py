"""Take over from another migration tool: baseline dualpath_history from its history table.

Versions are matched to the files by number; anything applied there but missing here is
listed for a person to decide — never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, inspect, text

from dualpath import history
from dualpath.changes import Change, version_key
from dualpath.history import Actor


@dataclass
class Adoption:
    tool: str
    table: str
    applied: list[str]  # versions (as the tool wrote them) it says are applied
    matched: list[Change] = field(default_factory=list)
    missing_here: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def find_tool(conn: Connection) -> tuple[str, str] | None:
    """(tool, table name as the server spells it) of the first history table found."""
    insp = inspect(conn)
    names = {n.lower(): n for n in insp.get_table_names()}
    if "flyway_schema_history" in names:
        return "flyway", names["flyway_schema_history"]
    if "databasechangelog" in names:
        return "liquibase", names["databasechangelog"]
    if "__diesel_schema_migrations" in names:
        return "diesel", names["__diesel_schema_migrations"]
    if "schema_migrations" in names:
        cols = {c["name"].lower() for c in insp.get_columns(names["schema_migrations"])}
        return ("golang-migrate" if "dirty" in cols else "dbmate"), names["schema_migrations"]
    if "changes" in {n.lower() for n in _tables_in(conn, "sqitch")}:
        return "sqitch", "sqitch.changes"
    return None


def _tables_in(conn: Connection, schema: str) -> list[str]:
    insp = inspect(conn)
    try:
        return insp.get_table_names(schema=schema) if schema in insp.get_schema_names() else []
    except Exception:  # SQLite has no schemas by that name; nothing to adopt there
        return []


def read_applied(conn: Connection, tool: str, table: str) -> tuple[list[str], list[str]]:
    """Versions the tool recorded as applied, and problems it recorded (dirty, failed)."""
    problems: list[str] = []
    if tool == "flyway":
        rows = conn.execute(text(f"SELECT version, type, success FROM {table} ORDER BY installed_rank")).all()
        state: dict[str, bool] = {}
        for version, kind, success in rows:
            if version is None:
                continue  # repeatable migrations have no version
            if not success:
                problems.append(f"flyway recorded version {version} as failed")
            state[str(version)] = bool(success) and str(kind).upper() != "UNDO_SQL"
        return [v for v, on in state.items() if on], problems
    if tool == "liquibase":
        cols = {c["name"].lower(): c["name"] for c in inspect(conn).get_columns(table)}
        rows = conn.execute(text(f"SELECT {cols['author']}, {cols['id']}, {cols['exectype']} FROM {table} "
                                 f"ORDER BY {cols['orderexecuted']}")).all()
        return [f"{a}:{i}" for a, i, kind in rows if str(kind).upper() in ("EXECUTED", "RERAN", "MARK_RAN")], problems
    if tool == "golang-migrate":
        row = conn.execute(text(f"SELECT version, dirty FROM {table}")).first()
        if row is None:
            return [], problems
        if row[1]:
            problems.append(f"golang-migrate left version {row[0]} dirty (failed half-way)")
        return [f"<={row[0]}"], problems
    if tool == "sqitch":
        return [r[0] for r in conn.execute(text("SELECT change FROM sqitch.changes ORDER BY committed_at"))], problems
    return [str(r[0]) for r in conn.execute(text(f"SELECT version FROM {table}"))], problems


def match_changes(tool: str, applied: list[str], changes: list[Change]) -> tuple[list[Change], list[str]]:
    """Which of our changes the tool's rows stand for; rows with no file here are returned apart."""
    if tool == "golang-migrate" and applied:
        upto = version_key(applied[0][2:])
        return [c for c in changes if c.sort_key <= upto], []
    if tool == "liquibase":
        keyed = {str(c.extra.get("changeset_id")): c for c in changes}
    elif tool == "sqitch":
        keyed = {str(c.extra.get("sqitch_name")): c for c in changes}
    else:
        keyed = {"".join(str(n) for n in c.sort_key): c for c in changes}
        applied = ["".join(str(n) for n in version_key(v)) for v in applied]
    matched = [keyed[v] for v in applied if v in keyed]
    missing = [v for v in applied if v not in keyed]
    unique = {c.version: c for c in matched}
    return sorted(unique.values(), key=lambda c: c.sort_key), missing


def inspect_adoption(conn: Connection, changes: list[Change]) -> Adoption | None:
    found = find_tool(conn)
    if found is None:
        return None
    tool, table = found
    applied, problems = read_applied(conn, tool, table)
    matched, missing = match_changes(tool, applied, changes)
    return Adoption(tool, table, applied, matched, missing, problems)


def write_baseline(conn: Connection, adoption: Adoption, actor: Actor, already: set[str]) -> list[str]:
    """History rows for every matched change not yet known to dualpath, plus one audit row."""
    written = []
    for change in adoption.matched:
        if change.version in already:
            continue
        history.record(conn, actor, version=change.version, description=change.description,
                       checksum=change.checksum, direction="baseline", duration_ms=0, success=True,
                       detail={"adopted_from": adoption.tool})
        written.append(change.version)
    history.audit(conn, actor, "adopt", detail={"tool": adoption.tool, "table": adoption.table,
                                                "baselined": written, "missing_here": adoption.missing_here})
    return written
