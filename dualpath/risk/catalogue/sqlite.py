"""SQLite: which ALTER TABLE forms exist, and which need the 12-step table rebuild.

SQLite's ALTER TABLE knows only RENAME TO, RENAME COLUMN (3.25+), ADD COLUMN and DROP
COLUMN (3.35+). Everything else — changing a type, a constraint, NOT NULL, a default —
means creating a new table, copying the rows, dropping the old one and renaming
(https://www.sqlite.org/lang_altertable.html#otheralter). Every write holds the
database-wide write lock.
"""

from __future__ import annotations

from dualpath.risk.catalogue import Row

W = "EXCLUSIVE"  # the database write lock: other writers wait, WAL readers continue
REBUILD = "needs the 12-step rebuild: create the new table, copy the rows, drop, rename"

BLOCKS = {W: "writes", "none": "none"}

FEATURES = {"sqlite": {"rename_column": (3, 25), "drop_column": (3, 35)}}

ROWS = [
    Row("create_table", "none", "none"),
    Row("create_table_as", W, "scan"),
    Row("drop_table", W, "rewrite", notes="deletes every row and index entry"),
    Row("rename_table", W, "metadata"),
    Row("add_column", W, "metadata"),
    Row("add_column", W, "unsupported", variant="not_null_no_default",
        notes="SQLite refuses NOT NULL without a non-NULL default"),
    Row("add_column", W, "unsupported", variant="volatile_default",
        notes="SQLite refuses a non-constant default in ADD COLUMN"),
    Row("add_column", W, "unsupported", variant="stored_generated",
        notes="SQLite cannot add a STORED generated column"),
    Row("add_column", W, "unsupported", variant="keyed",
        notes="SQLite cannot add a PRIMARY KEY or UNIQUE column"),
    Row("drop_column", W, "rewrite", since=(3, 35), notes="rewrites the table to drop the values"),
    Row("drop_column", W, "unsupported", until=(3, 35), notes="DROP COLUMN needs SQLite 3.35; " + REBUILD),
    Row("rename_column", W, "metadata", since=(3, 25)),
    Row("rename_column", W, "unsupported", until=(3, 25), notes="RENAME COLUMN needs SQLite 3.25; " + REBUILD),
    Row("create_index", W, "build"),
    Row("drop_index", W, "metadata"),
    Row("reindex", W, "build"),
    Row("vacuum", W, "rewrite", notes="rewrites the whole database file"),
    Row("update", W, "scan"),
    Row("delete", W, "scan"),
    Row("insert", W, "none"),
    Row("insert_select", W, "scan"),
    Row("set_timeout", "none", "none"),
    Row("transaction", "none", "none"),
    Row("create_routine", "none", "none"),
]

# ALTER TABLE forms SQLite does not have
ROWS += [Row(op, W, "unsupported", notes=REBUILD) for op in (
    "alter_column_type", "set_not_null", "drop_not_null", "set_default", "drop_default",
    "add_constraint", "drop_constraint", "rename_constraint", "convert_charset", "rebuild_table",
)]
