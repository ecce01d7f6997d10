"""Take over from another migration tool: baseline dualpath_history from its history table.

Versions are matched to the files by number; anything applied there but missing here is
listed for a person to decide — never guessed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import PurePosixPath

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
    notes: list[str] = field(default_factory=list)  # rows passed by on purpose, said once


def find_tool(conn: Connection, sqitch_registry: str = "sqitch") -> tuple[str, str] | None:
    """(tool, table name as the server spells it) of the first history table found; sqitch keeps its
    registry in a schema (PostgreSQL) or a database (MySQL) named ``sqitch`` unless sqitch.conf says."""
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
    if "changes" in {n.lower() for n in _tables_in(conn, sqitch_registry)}:
        return "sqitch", f"{sqitch_registry}.changes"
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
        return _liquibase_applied(conn, table), problems
    if tool == "golang-migrate":
        row = conn.execute(text(f"SELECT version, dirty FROM {table}")).first()
        if row is None:
            return [], problems
        if row[1]:
            problems.append(f"golang-migrate left version {row[0]} dirty (failed half-way)")
        return [f"<={row[0]}"], problems
    if tool == "sqitch":
        return _sqitch_applied(conn, table), problems
    return [str(r[0]) for r in conn.execute(text(f"SELECT version FROM {table}"))], problems


def _liquibase_applied(conn: Connection, table: str) -> list[str]:
    """``author:id`` of each executed changeset, tagged with the file Liquibase read it from
    (``author:id@filename``): rows of a changelog dualpath does not read are told apart later."""
    cols = {c["name"].lower(): c["name"] for c in inspect(conn).get_columns(table)}
    rows = conn.execute(text(f"SELECT {cols['author']}, {cols['id']}, {cols['filename']}, {cols['exectype']} "
                             f"FROM {table} ORDER BY {cols['orderexecuted']}")).all()
    return [f"{a}:{i}@{f}" for a, i, f, kind in rows if str(kind).upper() in ("EXECUTED", "RERAN", "MARK_RAN")]


def _sqitch_applied(conn: Connection, table: str) -> list[str]:
    """``project/change`` of each deployed change in deploy order. A reworked change is deployed (and
    listed) once per plan entry, under the same name. ``change`` is a reserved word on MySQL: quoted."""
    quote = conn.dialect.identifier_preparer.quote
    registry = quote(table.rsplit(".", 1)[0])
    rows = conn.execute(text(f"SELECT project, {quote('change')} FROM {registry}.changes "
                             f"ORDER BY committed_at, {quote('change_id')}"))
    return [f"{project}/{change}" for project, change in rows]


def match_changes(tool: str, applied: list[str], changes: list[Change],
                  notes: list[str] | None = None) -> tuple[list[Change], list[str]]:
    """Which of our changes the tool's rows stand for; rows with no file here are returned apart, rows
    the layout's reader passes by on purpose are said in ``notes``."""
    notes = [] if notes is None else notes
    if tool == "golang-migrate" and applied:
        upto = version_key(applied[0][2:])
        return [c for c in changes if c.sort_key <= upto], []
    if tool == "sqitch":
        return _match_sqitch(applied, changes, notes)
    if tool == "liquibase":
        keyed = {str(c.extra.get("changeset_id")): c for c in changes}
        applied = _sql_changesets(applied, notes)
    else:
        keyed = {"".join(str(n) for n in c.sort_key): c for c in changes}
        applied = ["".join(str(n) for n in version_key(v)) for v in applied]
    matched = [keyed[v] for v in applied if v in keyed]
    missing = [v for v in applied if v not in keyed]
    unique = {c.version: c for c in matched}
    return sorted(unique.values(), key=lambda c: c.sort_key), missing


def inspect_adoption(conn: Connection, changes: list[Change]) -> Adoption | None:
    registry = next((str(c.extra["sqitch_registry"]) for c in changes if c.extra.get("sqitch_registry")), "sqitch")
    found = find_tool(conn, registry)
    if found is None:
        return None
    tool, table = found
    applied, problems = read_applied(conn, tool, table)
    notes: list[str] = []
    matched, missing = match_changes(tool, applied, changes, notes)
    return Adoption(tool, table, applied, matched, missing, problems, notes)


def _sql_changesets(applied: list[str], notes: list[str]) -> list[str]:
    """Liquibase rows of formatted SQL files, as ``author:id``. Rows of an XML/YAML/JSON changelog (a
    root changelog's own ``tagDatabase``, say) are changesets dualpath does not read, in any folder:
    passed by with a note, not mistaken for files missing here."""
    kept: list[tuple[str, str]] = []
    other: list[tuple[str, str]] = []
    for row in applied:
        key, _, filename = row.rpartition("@")
        (kept if PurePosixPath(filename).suffix.lower() == ".sql" else other).append((key, filename))
    if other:
        files = ", ".join(sorted({f for _, f in other}))
        notes.append(f"{len(other)} changeset(s) from {files} passed by: dualpath reads formatted SQL "
                     f"changelogs only ({', '.join(k for k, _ in other)})")
    return [key for key, _ in kept]


def _match_sqitch(applied: list[str], changes: list[Change], notes: list[str]) -> tuple[list[Change], list[str]]:
    """The n-th deployed row of a name is the n-th plan entry of that name (sqitch deploys in plan
    order, a reworked change once per entry). Rows of another sqitch project sharing the registry
    are passed by with a note."""
    projects = {str(c.extra.get("sqitch_project")) for c in changes if c.extra.get("sqitch_project")}
    entries: dict[str, list[Change]] = {}
    for change in changes:
        entries.setdefault(str(change.extra.get("sqitch_name")), []).append(change)
    seen: Counter[str] = Counter()
    matched, missing, others = [], [], Counter[str]()
    for row in applied:
        project, _, name = row.partition("/")
        if projects and project not in projects:
            others[project] += 1
            continue
        seen[name] += 1
        found = entries.get(name, [])
        if seen[name] <= len(found):
            matched.append(found[seen[name] - 1])
        else:
            missing.append(name if seen[name] == 1 else f"{name} (deployed {seen[name]} times)")
    notes.extend(f"{count} change(s) of sqitch project {project} passed by: this plan is project "
                 f"{', '.join(sorted(projects))}" for project, count in sorted(others.items()))
    return sorted(matched, key=lambda c: c.sort_key), missing


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
