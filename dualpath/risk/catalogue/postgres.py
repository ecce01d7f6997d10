"""PostgreSQL: the lock each statement takes and whether it rewrites or scans the table.

Sources: the "Explicit Locking" chapter and the ALTER TABLE / CREATE INDEX / REINDEX pages
of the PostgreSQL manual, versions 10 to 17.
"""

from __future__ import annotations

from dualpath.risk.catalogue import Row

AE = "ACCESS EXCLUSIVE"
EXCL = "EXCLUSIVE"
SRE = "SHARE ROW EXCLUSIVE"
SHARE = "SHARE"
SUE = "SHARE UPDATE EXCLUSIVE"
RE = "ROW EXCLUSIVE"
NONE = "none"

# what other sessions can no longer do while the lock is held
BLOCKS = {
    AE: "reads and writes", EXCL: "writes", SRE: "writes", SHARE: "writes",
    "SHARE ROW EXCLUSIVE (both tables)": "writes",
    SUE: "none", RE: "none", NONE: "none", "ROW SHARE": "none", "ACCESS SHARE": "none",
}

FEATURES = {"postgresql": {
    "add_column_fast_default": (11,),
    "set_not_null_uses_check": (12,),
    "reindex_concurrently": (12,),
    "enum_add_value_in_transaction": (12,),
    "detach_concurrently": (14,),
    "attach_partition_share_update": (12,),
}}

ROWS = [
    # tables
    Row("create_table", NONE, "none", notes="a new table is empty: nothing waits on it"),
    Row("create_table_as", NONE, "none", notes="reads the source tables under ACCESS SHARE"),
    Row("drop_table", AE, "metadata"),
    Row("rename_table", AE, "metadata", notes="running code that uses the old name fails at once"),
    Row("truncate", AE, "metadata", notes="empties the table; CASCADE also empties referencing tables"),
    Row("set_tablespace", AE, "rewrite"),
    Row("set_logged", AE, "rewrite", notes="SET LOGGED/UNLOGGED copies the table"),
    Row("set_access_method", AE, "rewrite"),
    Row("vacuum_full", AE, "rewrite"),
    Row("cluster", AE, "rewrite"),
    Row("lock_table", AE, "none", notes="the lock mode named in the statement, held to the end of the transaction"),
    Row("disable_trigger", SRE, "metadata"),
    Row("enable_trigger", SRE, "metadata"),
    Row("refresh_matview", AE, "rewrite"),
    Row("refresh_matview", EXCL, "rewrite", variant="concurrent", notes="reads continue, writes wait"),
    # columns
    Row("add_column", AE, "metadata", notes="brief lock, catalog change only"),
    Row("add_column", AE, "rewrite", variant="default", until=(11,),
        notes="before PostgreSQL 11 every existing row gets the default written"),
    Row("add_column", AE, "metadata", variant="default", since=(11,),
        notes="non-volatile default is stored in the catalog (fast default)"),
    Row("add_column", AE, "rewrite", variant="volatile_default",
        notes="a volatile default (now() is fine; random(), gen_random_uuid(), nextval() are not) is "
              "evaluated per row"),
    Row("add_column", AE, "rewrite", variant="serial", notes="serial columns take nextval() for every row"),
    Row("add_column", AE, "rewrite", variant="identity", notes="identity columns are filled row by row"),
    Row("add_column", AE, "rewrite", variant="stored_generated", notes="stored generated values are computed"),
    Row("add_column", AE, "scan", variant="checked",
        notes="the column's CHECK is verified on every row under the lock"),
    Row("drop_column", AE, "metadata", notes="the column is hidden, space is reclaimed by later rewrites"),
    Row("rename_column", AE, "metadata", notes="running code that uses the old name fails at once"),
    Row("alter_column_type", AE, "rewrite",
        notes="rewrites the table and its indexes unless the types are binary coercible "
              "(e.g. varchar(n) to text or to a larger n)"),
    Row("alter_column_type", AE, "metadata", variant="binary",
        notes="binary coercible from the current type: the table and its indexes are kept"),
    Row("alter_column_type", AE, "build", variant="indexes",
        notes="the table is kept (time zone UTC), but every index on the column is rebuilt under the lock"),
    Row("set_not_null", AE, "scan", notes="scans the whole table while holding the lock"),
    Row("set_not_null", AE, "metadata", variant="checked", since=(12,),
        notes="a validated CHECK (col IS NOT NULL) proves it without a scan"),
    Row("set_not_null", AE, "metadata", variant="noop", notes="the column is NOT NULL already"),
    Row("drop_not_null", AE, "metadata"),
    Row("set_default", AE, "metadata"),
    Row("drop_default", AE, "metadata"),
    Row("add_identity", AE, "metadata", notes="creates the sequence; existing rows keep their values (measured)"),
    Row("set_statistics", SUE, "metadata"),
    Row("set_storage", AE, "metadata"),
    # constraints
    Row("add_constraint", AE, "scan", variant="check", notes="validates every row under the lock"),
    Row("add_constraint", AE, "metadata", variant="check_not_valid", notes="checks new rows only"),
    Row("add_constraint", "SHARE ROW EXCLUSIVE (both tables)", "scan", variant="foreign",
        notes="validates every row, blocking writes to both tables"),
    Row("add_constraint", "SHARE ROW EXCLUSIVE (both tables)", "metadata", variant="foreign_not_valid"),
    Row("reference_table", SRE, "none",
        notes="a foreign key (also in CREATE TABLE) adds triggers to the table it references: writes to it "
              "wait until the transaction ends"),
    Row("add_constraint", AE, "build", variant="unique", notes="builds a unique index under the lock"),
    Row("add_constraint", AE, "build", variant="primary", notes="builds the index and checks NOT NULL under the lock"),
    Row("add_constraint", AE, "metadata", variant="using_index", notes="adopts an index built beforehand"),
    Row("add_constraint", AE, "build", variant="exclude"),
    Row("validate_constraint", SUE, "scan", notes="scans without blocking reads or writes"),
    Row("drop_constraint", AE, "metadata"),
    Row("rename_constraint", AE, "metadata"),
    # indexes
    Row("create_index", SHARE, "build", notes="writes wait for the whole index build"),
    Row("create_index", SUE, "build", variant="concurrent", notes="two scans, reads and writes continue"),
    Row("drop_index", AE, "metadata", notes="waits for every query on the table, then blocks them"),
    Row("drop_index", SUE, "metadata", variant="concurrent"),
    Row("reindex", SHARE, "build", notes="writes wait; reads that use the index wait on its ACCESS EXCLUSIVE lock"),
    Row("reindex", SUE, "build", variant="concurrent", since=(12,)),
    Row("reindex", SHARE, "unsupported", variant="concurrent", until=(12,),
        notes="REINDEX CONCURRENTLY needs PostgreSQL 12"),
    Row("rename_index", SUE, "metadata", since=(12,)),
    Row("rename_index", AE, "metadata", until=(12,)),
    # partitions
    Row("attach_partition", SUE, "scan", since=(12,), notes="scans the partition unless a CHECK proves the bound"),
    Row("attach_partition", SUE, "metadata", variant="proven", since=(12,),
        notes="a validated CHECK on the partition proves the bound: no scan"),
    Row("attach_partition", AE, "scan", until=(12,)),
    Row("detach_partition", AE, "metadata"),
    # the partition itself (measured: pg_locks after ATTACH/DETACH)
    Row("partition_table", AE, "scan", variant="attach",
        notes="the table being attached is scanned for rows outside the bound unless a CHECK proves it"),
    Row("partition_table", AE, "metadata", variant="attach_proven",
        notes="a validated CHECK proves the bound: the partition is not scanned"),
    Row("partition_table", AE, "metadata", variant="detach"),
    Row("partition_table", AE, "metadata", variant="detach_concurrent", since=(14,),
        notes="the second of its two transactions takes ACCESS EXCLUSIVE on the partition itself"),
    Row("detach_partition", SUE, "metadata", variant="concurrent", since=(14,)),
    Row("detach_partition", AE, "unsupported", variant="concurrent", until=(14,),
        notes="DETACH PARTITION CONCURRENTLY needs PostgreSQL 14"),
    # types and domains
    Row("alter_enum_add_value", EXCL, "metadata"),
    Row("create_domain", NONE, "none"),
    Row("alter_domain_add_constraint", SHARE, "scan", notes="checks every column of that domain in every table"),
    Row("alter_domain_add_constraint", SHARE, "none", variant="unused", notes="no table uses the domain"),
    Row("rename_enum_value", EXCL, "metadata", notes="queries that use the old label fail at once"),
    Row("restart_sequence", NONE, "metadata", notes="values already handed out may be handed out again"),
    Row("alter_sequence", NONE, "metadata"),
    # data
    Row("update", RE, "scan", notes="row locks on every row changed, held to commit"),
    Row("delete", RE, "scan", notes="row locks on every row deleted, held to commit"),
    Row("insert", RE, "none"),
    Row("insert_select", RE, "scan"),
    Row("do_block", NONE, "none", notes="whatever the block runs"),
    # databases and schemas
    Row("drop_database", AE, "metadata"),
    Row("drop_schema", AE, "metadata"),
    Row("drop_view", AE, "metadata"),
    Row("set_timeout", NONE, "none"),
    Row("transaction", NONE, "none"),
    Row("create_routine", NONE, "none"),
]

# LOCK TABLE takes the mode it names
ROWS += [Row("lock_table", mode, "none", variant=mode) for mode in
         (AE, EXCL, SRE, SHARE, SUE, RE, "ROW SHARE", "ACCESS SHARE")]
