"""PostgreSQL dependents: ``pg_depend`` for what the server tracks, routine bodies for what it does not.

Views, materialized views, foreign keys, generated columns, policies, triggers (``UPDATE OF``, ``WHEN``)
and SQL-standard function bodies (``BEGIN ATOMIC``) are recorded in ``pg_depend``: a normal dependency
makes PostgreSQL refuse a DROP without CASCADE (with CASCADE the dependent goes too, silently) and
refuse most type changes; an automatic one (an index, the column's own constraint) goes with it.
They all refer to a column by number, so a rename carries them along. A body kept as text (PL/pgSQL,
an SQL function written as a string) is only read when it is called: a rename or drop breaks it then.
"""

from __future__ import annotations

import re

from sqlalchemy import Connection, text

from dualpath.risk.measure.dependents import Change
from dualpath.risk.measure.observation import Dependent

_TRACKED = text("""
SELECT d.deptype, d.classid::regclass::text, d.objid, d.objsubid, d.refobjsubid,
       pg_describe_object(d.classid, d.objid, d.objsubid),
       CASE d.classid::regclass::text
         WHEN 'pg_rewrite' THEN (SELECT r.ev_class FROM pg_rewrite r WHERE r.oid = d.objid)
         WHEN 'pg_attrdef' THEN (SELECT a.adrelid FROM pg_attrdef a WHERE a.oid = d.objid)
         WHEN 'pg_constraint' THEN (SELECT k.conrelid FROM pg_constraint k WHERE k.oid = d.objid)
         WHEN 'pg_trigger' THEN (SELECT t.tgrelid FROM pg_trigger t WHERE t.oid = d.objid)
         WHEN 'pg_policy' THEN (SELECT p.polrelid FROM pg_policy p WHERE p.oid = d.objid)
         WHEN 'pg_class' THEN d.objid
       END AS owner
  FROM pg_depend d
 WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = :rel AND d.deptype IN ('n', 'a')
   AND (:attnum = 0 OR d.refobjsubid = :attnum)""")

_OWNER = text("SELECT c.oid::regclass::text, c.relkind FROM pg_class c WHERE c.oid = :oid")
_ATTRDEF = text("SELECT a.attname, a.attgenerated FROM pg_attrdef d JOIN pg_attribute a "
                "ON a.attrelid = d.adrelid AND a.attnum = d.adnum WHERE d.oid = :oid")
_CONSTRAINT = text("SELECT contype, conname FROM pg_constraint WHERE oid = :oid")
_BODIES = text("""
SELECT p.oid::regprocedure::text, p.prokind, p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
   AND p.prosqlbody IS NULL AND p.prosrc ~* :word
   AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.classid = 'pg_proc'::regclass AND e.objid = p.oid
                   AND e.deptype = 'e')""")

_RETYPE_REFUSED = {"view": "used by a view or rule", "materialized view": "used by a view or rule",
                   "policy": "used in a policy definition", "generated column": "used by a generated column",
                   "trigger": "used in a trigger definition", "function": "used by a function or procedure"}


def dependents(conn: Connection, change: Change, where: str) -> list[Dependent]:
    rel = conn.execute(text("SELECT to_regclass(:t)::oid"), {"t": change.table}).scalar()
    if rel is None:
        return []
    attnum = 0
    if change.column is not None:
        attnum = conn.execute(text("SELECT attnum FROM pg_attribute WHERE attrelid = :r AND attname = :c "
                                   "AND NOT attisdropped"), {"r": rel, "c": change.column}).scalar() or 0
        if not attnum:
            return []
    found = []
    for deptype, catalog, objid, _, _, described, owner in conn.execute(_TRACKED, {"rel": rel, "attnum": attnum}):
        named = _name(conn, catalog, int(objid), int(owner or 0), int(rel), change, str(described))
        if named is None:
            continue
        kind, name, own = named
        outcome, severity = _outcome(change, kind, deptype, own)
        if outcome:
            dependent = Dependent(where, change.used, kind, name, outcome, severity)
            if dependent not in found:
                found.append(dependent)
    return found + _bodies(conn, change, where)


def _name(conn: Connection, catalog: str, objid: int, owner: int, rel: int, change: Change,
          described: str) -> tuple[str, str, bool] | None:
    """(kind, name, belongs to the table itself) of a dependent; None for what is not worth naming."""
    own = owner == rel
    if catalog == "pg_rewrite":
        if own:
            return None
        name, relkind = conn.execute(_OWNER, {"oid": owner}).one()
        return ("materialized view" if relkind == "m" else "view"), str(name), False
    if catalog == "pg_attrdef":
        column, generated = conn.execute(_ATTRDEF, {"oid": objid}).one()
        table = conn.execute(_OWNER, {"oid": owner}).one()[0]
        return ("generated column" if generated else "default of column"), f"{table}.{column}", own
    if catalog == "pg_constraint":
        contype, name = conn.execute(_CONSTRAINT, {"oid": objid}).one()
        table = conn.execute(_OWNER, {"oid": owner}).one()[0]
        kind = {"f": "foreign key", "c": "check constraint", "u": "unique constraint", "p": "primary key",
                "x": "exclusion constraint"}.get(str(contype), "constraint")
        return kind, f"{name} on {table}", own
    if catalog == "pg_class":
        name, relkind = conn.execute(_OWNER, {"oid": objid}).one()
        if relkind not in ("i", "I", "S"):
            return None
        return ("index" if relkind in ("i", "I") else "sequence"), str(name), True
    if catalog == "pg_trigger":
        return "trigger", described.removeprefix("trigger "), own
    if catalog == "pg_policy":
        return "policy", described.removeprefix("policy "), own
    if catalog == "pg_proc":
        kind, _, name = described.partition(" ")
        return kind, name, False
    return None


def _outcome(change: Change, kind: str, deptype: str, own: bool) -> tuple[str, str]:
    """What happens to the dependent, and how bad that is ("" when nothing happens worth saying)."""
    if change.action == "drop" and change.column is None and own:
        return "", ""  # a table's own indexes, constraints and triggers go with it, as everyone expects
    if change.action == "drop":
        if deptype == "a":
            return "is dropped with it", "info"
        if change.cascade:
            return "is dropped silently with it (CASCADE); whatever uses it then fails", "warning"
        return (f"PostgreSQL refuses the statement while this {kind} depends on it; with CASCADE the {kind} "
                "would be dropped silently"), "error"
    if change.action == "retype":
        refused = _RETYPE_REFUSED.get(kind)
        if refused and deptype == "n":
            return (f"PostgreSQL refuses the type change (cannot alter type of a column {refused}): drop and "
                    f"re-create the {kind} around it"), "error"
        if kind in ("foreign key", "check constraint", "unique constraint", "primary key", "exclusion constraint"):
            return "is re-created and checked against every row again (unless the types are binary compatible)", \
                "info"
        return "", ""
    if own:
        return "", ""  # the table's own indexes, constraints, triggers and policies follow it unnoticed
    return "follows the rename (PostgreSQL keeps the reference by number, not by name)", "info"


def _bodies(conn: Connection, change: Change, where: str) -> list[Dependent]:
    """Routines whose text body names the table (and the column): PostgreSQL does not track those."""
    if change.action == "retype":
        return []
    rows = conn.execute(_BODIES, {"word": _word(change.words[-1])}).all()
    found = []
    for name, prokind, body in rows:
        if not all(re.search(rf"(?<![\w$]){re.escape(w)}(?![\w$])", str(body), re.I) for w in change.words):
            continue
        kind = "procedure" if prokind == "p" else "function"
        outcome = ("its body names it and is only read when called: calls fail once it is "
                   f"{'gone' if change.action == 'drop' else 'renamed'}")
        found.append(Dependent(where, change.used, kind, str(name), outcome, "warning"))
    return found


def _word(name: str) -> str:
    """A PostgreSQL regular expression matching ``name`` as a whole word."""
    return r"\m" + re.sub(r"([^\w])", r"\\\1", name) + r"\M"
