"""MySQL 8.0 and MariaDB 10.6+: ALGORITHM and LOCK for each ALTER TABLE operation.

Sources: MySQL 8.0 "Online DDL Operations" tables and MariaDB "InnoDB Online DDL
Operations with ALGORITHM=INSTANT / INPLACE / NOCOPY". ``lock`` is the strongest
LOCK clause the server accepts for the operation: NONE lets reads and writes continue,
SHARED blocks writes, EXCLUSIVE blocks both.
"""

from __future__ import annotations

from dualpath.risk.catalogue import Row

NONE, SHARED, EXCLUSIVE = "NONE", "SHARED", "EXCLUSIVE"
INSTANT, INPLACE, COPY = "INSTANT", "INPLACE", "COPY"
MY, MARIA = ("mysql",), ("mariadb",)

BLOCKS = {NONE: "none", SHARED: "writes", EXCLUSIVE: "reads and writes"}

FEATURES = {
    "mysql": {"instant_add_column": (8, 0, 12), "instant_add_column_anywhere": (8, 0, 29),
              "instant_drop_column": (8, 0, 29), "check_constraints": (8, 0, 16)},
    "mariadb": {"instant_add_column": (10, 3), "instant_add_column_anywhere": (10, 4),
                "instant_drop_column": (10, 4), "check_constraints": (10, 2)},
}

ROWS = [
    Row("create_table", NONE, "none"),
    Row("create_table_as", NONE, "none"),
    Row("drop_table", EXCLUSIVE, "metadata", notes="waits for the metadata lock held by open transactions"),
    Row("rename_table", EXCLUSIVE, "metadata", notes="running code that uses the old name fails at once"),
    Row("truncate", EXCLUSIVE, "metadata", notes="drops and recreates the table; cannot be rolled back"),
    # columns
    Row("add_column", NONE, "metadata", algorithm=INSTANT, since=(8, 0, 12), flavors=MY,
        notes="instant when added last (any position from 8.0.29)"),
    Row("add_column", NONE, "rewrite", algorithm=INPLACE, until=(8, 0, 12), flavors=MY,
        notes="rebuilds the table in place"),
    Row("add_column", NONE, "metadata", algorithm=INSTANT, variant="positioned", since=(8, 0, 29), flavors=MY),
    Row("add_column", NONE, "rewrite", algorithm=INPLACE, variant="positioned", until=(8, 0, 29), flavors=MY,
        notes="AFTER/FIRST rebuilds the table before 8.0.29"),
    Row("add_column", NONE, "metadata", algorithm=INSTANT, since=(10, 3), flavors=MARIA),
    Row("add_column", NONE, "metadata", algorithm=INSTANT, variant="positioned", since=(10, 4), flavors=MARIA),
    Row("add_column", NONE, "rewrite", algorithm=INPLACE, variant="positioned", until=(10, 4), flavors=MARIA),
    Row("add_column", SHARED, "rewrite", algorithm=COPY, variant="auto_increment",
        notes="AUTO_INCREMENT columns are filled by copying the table; writes wait"),
    Row("add_column", SHARED, "rewrite", algorithm=COPY, variant="stored_generated",
        notes="stored generated values are computed by copying the table"),
    Row("add_column", SHARED, "rewrite", algorithm=COPY, variant="volatile_default",
        notes="a DEFAULT expression (or UUID(), RAND()) is evaluated for every row by copying the table"),
    Row("add_column", SHARED, "rewrite", algorithm=INPLACE, variant="fulltext_table",
        notes="a table with a FULLTEXT index cannot add a column instantly: it is rebuilt, writes wait"),
    Row("drop_column", NONE, "metadata", algorithm=INSTANT, since=(8, 0, 29), flavors=MY),
    Row("drop_column", NONE, "rewrite", algorithm=INPLACE, until=(8, 0, 29), flavors=MY,
        notes="rebuilds the table in place"),
    Row("drop_column", NONE, "metadata", algorithm=INSTANT, since=(10, 4), flavors=MARIA),
    Row("rename_column", NONE, "metadata", algorithm=INSTANT, since=(8, 0, 28), flavors=MY),
    Row("rename_column", NONE, "metadata", algorithm=INSTANT, since=(10, 4), flavors=MARIA),
    Row("rename_column", NONE, "metadata", algorithm=INPLACE),
    Row("alter_column_type", SHARED, "rewrite", algorithm=COPY,
        notes="copies the table; writes wait for the whole copy (widening a VARCHAR within "
              "the same length byte is in place)"),
    Row("alter_column_type", NONE, "metadata", algorithm=INSTANT, variant="instant",
        notes="only the default, comment, position or a compatible length changes"),
    Row("alter_column_type", NONE, "rewrite", algorithm=INPLACE, variant="inplace",
        notes="NULL / NOT NULL changes rebuild the table in place; reads and writes go on"),
    Row("alter_column_type", SHARED, "rewrite", algorithm=COPY, variant="copy",
        notes="the new definition changes how values are stored: the table is copied, writes wait"),
    Row("rename_column", SHARED, "rewrite", algorithm=COPY, variant="copy",
        notes="CHANGE also changes how values are stored: the table is copied, writes wait"),
    Row("rename_column", NONE, "rewrite", algorithm=INPLACE, variant="inplace",
        notes="CHANGE also changes NULL / NOT NULL: the table is rebuilt in place"),
    Row("set_not_null", NONE, "rewrite", algorithm=INPLACE, notes="rebuilds the table in place"),
    Row("drop_not_null", NONE, "rewrite", algorithm=INPLACE, notes="rebuilds the table in place"),
    Row("set_default", NONE, "metadata", algorithm=INSTANT),
    Row("drop_default", NONE, "metadata", algorithm=INSTANT),
    Row("convert_charset", SHARED, "rewrite", algorithm=COPY, notes="CONVERT TO CHARACTER SET copies the table"),
    # MariaDB 10.4+ widens utf8mb3 to utf8mb4 without a copy; only indexes on the converted columns are rebuilt
    Row("convert_charset", NONE, "metadata", algorithm=INSTANT, variant="utf8mb3_to_utf8mb4", since=(10, 4),
        flavors=MARIA, notes="utf8mb3 to utf8mb4: metadata only"),
    Row("convert_charset", NONE, "build", algorithm=INPLACE, variant="utf8mb3_to_utf8mb4_indexed", since=(10, 4),
        flavors=MARIA, notes="utf8mb3 to utf8mb4: not copied; indexes on the converted columns are rebuilt"),
    Row("rebuild_table", NONE, "rewrite", algorithm=INPLACE, notes="FORCE / ENGINE= / ROW_FORMAT= rebuild"),
    Row("rebuild_table", SHARED, "rewrite", algorithm=COPY, variant="copy",
        notes="a new storage engine: every row is copied, writes wait"),
    Row("optimize", NONE, "rewrite", algorithm=INPLACE,
        notes="InnoDB recreates the table; brief exclusive locks at start and end"),
    # indexes and keys
    Row("create_index", NONE, "build", algorithm=INPLACE, notes="secondary index built in place"),
    Row("create_index", SHARED, "rewrite", algorithm=INPLACE, variant="fulltext",
        notes="the first FULLTEXT index rebuilds the table; writes wait"),
    Row("create_index", SHARED, "build", algorithm=INPLACE, variant="spatial", notes="writes wait"),
    Row("drop_index", NONE, "metadata", algorithm=INPLACE),
    Row("rename_index", NONE, "metadata", algorithm=INPLACE),
    Row("add_constraint", NONE, "build", algorithm=INPLACE, variant="unique"),
    Row("add_constraint", NONE, "rewrite", algorithm=INPLACE, variant="primary",
        notes="rebuilds the clustered index: the whole table is rewritten"),
    Row("add_constraint", SHARED, "rewrite", algorithm=COPY, variant="foreign",
        notes="with foreign_key_checks on, adding a foreign key copies the table"),
    Row("add_constraint", NONE, "metadata", algorithm=INPLACE, variant="foreign_unchecked",
        notes="foreign_key_checks=0: no copy, existing rows are not checked"),
    Row("add_constraint", SHARED, "rewrite", algorithm=COPY, variant="check",
        notes="validates every row by copying the table"),
    Row("drop_constraint", NONE, "metadata", algorithm=INPLACE),
    Row("drop_constraint", SHARED, "rewrite", algorithm=COPY, variant="primary",
        notes="dropping the primary key without adding one copies the table"),
    # other statements
    Row("lock_table", EXCLUSIVE, "none", notes="LOCK TABLES ... WRITE blocks everyone else"),
    Row("lock_table", SHARED, "none", variant="READ"),
    Row("update", NONE, "scan", notes="row locks on every row changed, held to commit"),
    Row("delete", NONE, "scan", notes="row locks on every row deleted, held to commit"),
    Row("insert", NONE, "none"),
    Row("insert_select", SHARED, "scan", notes="shared locks on the rows read"),
    Row("drop_database", EXCLUSIVE, "metadata"),
    Row("drop_view", EXCLUSIVE, "metadata"),
    Row("set_timeout", NONE, "none"),
    Row("transaction", NONE, "none"),
    Row("create_routine", NONE, "none"),
]
