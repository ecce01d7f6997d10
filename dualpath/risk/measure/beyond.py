"""What may run on a shadow: nothing whose effect reaches past the shadow's own database.

The shadow shares its server with the target. A statement that switches the session to another database
(``USE``), names another database's table (MySQL: ``shop.orders``), makes or drops databases, roles,
users or tablespaces, changes the server's settings, or acts on other sessions, files or servers would
act on the target or the server around it: it is not run, and its change is not measured past it.
"""

from __future__ import annotations

import re

from dualpath.risk.context import Item

# how a statement starts when it acts on the server's databases, roles, users, tablespaces, settings or
# sessions, or moves the session to another database (SCHEMA and GRANT: only on MySQL, where a schema
# is a database and privileges are the server's)
_SERVER_WIDE = re.compile(
    r"^(?:USE\b|\\c|CONNECT\b|ALTER\s+SYSTEM\b|SET\s+(?:GLOBAL|PERSIST(?:_ONLY)?)\b|"
    r"(?:CREATE|DROP|ALTER|RENAME)\s+(?:DATABASE|ROLE|USER|TABLESPACE|SERVER)\b|"
    r"(?:CREATE|DROP)\s+SCHEMA\b(?P<mysql_schema>)|(?:GRANT|REVOKE)\b(?P<mysql_grant>)|FLUSH\b|"
    r"(?:INSTALL|UNINSTALL)\s+(?:PLUGIN|SONAME)\b|KILL\b|SHUTDOWN\b|LOAD\s+(?:DATA|XML)\b)", re.I | re.S)
# ... or anywhere in it: what acts on other sessions, the server's files or other servers
_SIDE_EFFECTS = re.compile(
    r"\b(?:pg_terminate_backend|pg_cancel_backend|pg_reload_conf|pg_rotate_logfile|pg_promote|dblink\w*|"
    r"lo_import|lo_export|pg_file_write|(?:FROM|TO)\s+PROGRAM|INTO\s+(?:OUT|DUMP)FILE)\b", re.I)
_LEADING_COMMENTS = re.compile(r"^(?:\s+|--[^\n]*(?:\n|$)|#[^\n]*(?:\n|$)|/\*.*?\*/)*", re.S)


def beyond_the_shadow(item: Item, dialect: str) -> str | None:
    """Why running ``item`` on the shadow would touch more than the shadow's database; None when it would not."""
    text = item.statement.text
    head = text[_LEADING_COMMENTS.match(text).end():]  # type: ignore[union-attr]
    match = _SERVER_WIDE.match(head)
    if match and (dialect == "mysql" or (match["mysql_schema"] is None and match["mysql_grant"] is None)):
        return f"{' '.join(head.split()[:2])} reaches beyond the database"
    effect = _SIDE_EFFECTS.search(text)
    if effect:
        return f"{effect.group(0)} acts beyond the database"
    if any(op.kind == "drop_database" for op in item.ops) and dialect == "mysql":
        return "it drops a database"
    if dialect == "mysql" and any(op.table and "." in op.table for op in item.ops):
        return "it names a table of another database"
    return None
