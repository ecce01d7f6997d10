"""The statements of the corpus, written for dualpath; about half are safe ones that look dangerous.

No case carries a label: the measurement gives it (tests/corpus/hazard.py). Each case is a
change as a migration file holds it, run the way dualpath's runner runs it, on the schema in
schemas.py.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    engine: str  # "postgresql" | "mariadb"
    note: str  # what the case is about; also its test id
    sql: str

    @property
    def id(self) -> str:
        return f"{'pg' if self.engine == 'postgresql' else 'maria'}: {self.note}"


PG = [
    # column types: binary-coercible changes keep the table, the rest rewrite it under ACCESS EXCLUSIVE
    ("int to bigint", "ALTER TABLE orders ALTER COLUMN qty TYPE bigint;"),
    ("numeric scale change", "ALTER TABLE orders ALTER COLUMN total TYPE numeric(12, 3);"),
    ("numeric precision raised, same scale", "ALTER TABLE orders ALTER COLUMN total TYPE numeric(14, 2);"),
    ("numeric constraint removed", "ALTER TABLE orders ALTER COLUMN total TYPE numeric;"),
    ("numeric precision lowered", "ALTER TABLE orders ALTER COLUMN total TYPE numeric(9, 2);"),
    ("varchar widened", "ALTER TABLE orders ALTER COLUMN code TYPE varchar(50);"),
    ("varchar narrowed", "ALTER TABLE orders ALTER COLUMN code TYPE varchar(8);"),
    ("varchar to text", "ALTER TABLE orders ALTER COLUMN code TYPE text;"),
    ("varchar length removed", "ALTER TABLE orders ALTER COLUMN code TYPE varchar;"),
    ("indexed varchar widened", "ALTER TABLE orders ALTER COLUMN status TYPE varchar(40);"),
    ("indexed varchar to text", "ALTER TABLE orders ALTER COLUMN status TYPE text;"),
    ("text to varchar(n)", "ALTER TABLE orders ALTER COLUMN note TYPE varchar(100);"),
    ("text to text (no change)", "ALTER TABLE orders ALTER COLUMN note TYPE text;"),
    ("varchar to text with USING", "ALTER TABLE orders ALTER COLUMN code TYPE text USING code::text;"),
    ("varchar to integer with USING", "ALTER TABLE orders ALTER COLUMN code TYPE int USING length(code);"),
    ("timestamp to timestamptz in UTC", "ALTER TABLE orders ALTER COLUMN placed_at TYPE timestamptz;"),
    ("indexed timestamp to timestamptz in UTC", "ALTER TABLE orders ALTER COLUMN shipped_at TYPE timestamptz;"),
    ("timestamp to timestamptz in Berlin time",
     "SET timezone = 'Europe/Berlin';\nALTER TABLE orders ALTER COLUMN placed_at TYPE timestamptz;"),
    ("timestamptz to timestamp", "ALTER TABLE audit_log ALTER COLUMN at TYPE timestamp;"),
    ("domain to its base type", "ALTER TABLE orders ALTER COLUMN weight TYPE numeric(8, 3);"),
    ("enum to text", "ALTER TABLE orders ALTER COLUMN mood TYPE text;"),
    ("type change of a new table's column",
     "CREATE TABLE coupons (id bigint PRIMARY KEY, code varchar(10));\n"
     "ALTER TABLE coupons ALTER COLUMN code TYPE int USING code::int;"),
    # adding columns
    ("add nullable column", "ALTER TABLE orders ADD COLUMN gift boolean;"),
    ("add column with constant default", "ALTER TABLE orders ADD COLUMN priority int NOT NULL DEFAULT 0;"),
    ("add column defaulting to now()", "ALTER TABLE orders ADD COLUMN seen_at timestamptz DEFAULT now();"),
    ("add column with volatile default", "ALTER TABLE orders ADD COLUMN token uuid DEFAULT gen_random_uuid();"),
    ("add column defaulting to clock_timestamp()",
     "ALTER TABLE orders ADD COLUMN stamped timestamptz DEFAULT clock_timestamp();"),
    ("add serial column", "ALTER TABLE orders ADD COLUMN seq serial;"),
    ("add identity column", "ALTER TABLE unkeyed ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY;"),
    ("add stored generated column",
     "ALTER TABLE orders ADD COLUMN double_qty int GENERATED ALWAYS AS (qty * 2) STORED;"),
    ("add NOT NULL column without default", "ALTER TABLE orders ADD COLUMN tier int NOT NULL;"),
    ("add column with a CHECK", "ALTER TABLE orders ADD COLUMN discount int CHECK (discount >= 0);"),
    ("add column with UNIQUE", "ALTER TABLE orders ADD COLUMN public_id text UNIQUE;"),
    ("add column referencing customers", "ALTER TABLE orders ADD COLUMN referrer_id bigint REFERENCES customers (id);"),
    ("add column to a table created in the change",
     "CREATE TABLE coupons (id bigint PRIMARY KEY);\n"
     "ALTER TABLE coupons ADD COLUMN token uuid DEFAULT gen_random_uuid();"),
    # NOT NULL, defaults
    ("set not null without proof", "ALTER TABLE orders ALTER COLUMN placed_at SET NOT NULL;"),
    ("set not null proven by a validated CHECK", "ALTER TABLE orders ALTER COLUMN ref SET NOT NULL;"),
    ("set not null with only a NOT VALID CHECK", "ALTER TABLE orders ALTER COLUMN region SET NOT NULL;"),
    ("check, validate, set not null in one transaction",
     "ALTER TABLE orders ADD CONSTRAINT orders_code_nn CHECK (code IS NOT NULL) NOT VALID;\n"
     "ALTER TABLE orders VALIDATE CONSTRAINT orders_code_nn;\n"
     "ALTER TABLE orders ALTER COLUMN code SET NOT NULL;"),
    ("drop not null", "ALTER TABLE orders ALTER COLUMN qty DROP NOT NULL;"),
    ("set default", "ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'new';"),
    ("drop default", "ALTER TABLE orders ALTER COLUMN status DROP DEFAULT;"),
    ("set statistics", "ALTER TABLE orders ALTER COLUMN customer_id SET STATISTICS 500;"),
    ("set storage", "ALTER TABLE orders ALTER COLUMN note SET STORAGE EXTERNAL;"),
    # constraints
    ("add CHECK", "ALTER TABLE orders ADD CONSTRAINT orders_qty_positive CHECK (qty > 0);"),
    ("add CHECK NOT VALID", "ALTER TABLE orders ADD CONSTRAINT orders_qty_positive CHECK (qty > 0) NOT VALID;"),
    ("validate an existing CHECK", "ALTER TABLE orders VALIDATE CONSTRAINT orders_total_nonneg;"),
    ("add CHECK NOT VALID and validate in one transaction",
     "ALTER TABLE orders ADD CONSTRAINT orders_qty_positive CHECK (qty > 0) NOT VALID;\n"
     "ALTER TABLE orders VALIDATE CONSTRAINT orders_qty_positive;"),
    ("add foreign key", "ALTER TABLE invoices ADD CONSTRAINT invoices_order_fk FOREIGN KEY (order_id) "
                        "REFERENCES orders (id);"),
    ("add foreign key NOT VALID", "ALTER TABLE invoices ADD CONSTRAINT invoices_order_fk FOREIGN KEY (order_id) "
                                  "REFERENCES orders (id) NOT VALID;"),
    ("validate an existing foreign key", "ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;"),
    ("add UNIQUE constraint", "ALTER TABLE orders ADD CONSTRAINT orders_code_key UNIQUE (id, code);"),
    ("add UNIQUE using an existing index", "ALTER TABLE orders ADD CONSTRAINT orders_ref_key "
                                           "UNIQUE USING INDEX orders_ref_key_idx;"),
    ("add PRIMARY KEY", "ALTER TABLE unkeyed ADD PRIMARY KEY (a);"),
    ("add EXCLUDE constraint", "ALTER TABLE legacy_notes ADD CONSTRAINT legacy_notes_excl "
                               "EXCLUDE USING btree (id WITH =);"),
    ("drop constraint", "ALTER TABLE orders DROP CONSTRAINT orders_total_nonneg;"),
    ("rename constraint", "ALTER TABLE orders RENAME CONSTRAINT orders_total_nonneg TO orders_total_positive;"),
    ("add CHECK on a new table", "CREATE TABLE coupons (id bigint PRIMARY KEY, pct int);\n"
                                 "ALTER TABLE coupons ADD CONSTRAINT coupons_pct CHECK (pct <= 100);"),
    # indexes
    ("create index", "CREATE INDEX orders_note_idx ON orders (note);"),
    ("create unique index", "CREATE UNIQUE INDEX orders_code_id_idx ON orders (code, id);"),
    ("create index concurrently", "CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_note_idx ON orders (note);"),
    ("create index concurrently inside BEGIN/COMMIT",
     "BEGIN;\nCREATE INDEX CONCURRENTLY orders_note_idx ON orders (note);\nCOMMIT;"),
    ("create index on a new table", "CREATE TABLE coupons (id bigint PRIMARY KEY, code text);\n"
                                    "CREATE INDEX coupons_code_idx ON coupons (code);"),
    ("drop index", "DROP INDEX orders_status_idx;"),
    ("drop index concurrently", "DROP INDEX CONCURRENTLY IF EXISTS orders_status_idx;"),
    ("reindex index", "REINDEX INDEX orders_status_idx;"),
    ("reindex table", "REINDEX TABLE audit_log;"),
    ("reindex concurrently", "REINDEX INDEX CONCURRENTLY orders_status_idx;"),
    ("rename index", "ALTER INDEX orders_status_idx RENAME TO orders_state_idx;"),
    # tables
    ("create table referencing customers", "CREATE TABLE coupons (id bigint PRIMARY KEY, "
                                           "customer_id bigint REFERENCES customers (id));"),
    ("drop table with rows", "DROP TABLE legacy_notes;"),
    ("drop a table created in the change", "CREATE TABLE scratch (id int);\nDROP TABLE scratch;"),
    ("rename table", "ALTER TABLE legacy_notes RENAME TO old_notes;"),
    ("rename a table created in the change", "CREATE TABLE scratch (id int);\nALTER TABLE scratch RENAME TO scratch2;"),
    ("rename column", "ALTER TABLE orders RENAME COLUMN note TO remark;"),
    ("rename a column added in the change", "ALTER TABLE orders ADD COLUMN memo text;\n"
                                            "ALTER TABLE orders RENAME COLUMN memo TO memo_text;"),
    ("drop column", "ALTER TABLE orders DROP COLUMN note;"),
    ("drop a column added in the change", "ALTER TABLE orders ADD COLUMN memo text;\n"
                                          "ALTER TABLE orders DROP COLUMN memo;"),
    ("truncate", "TRUNCATE audit_log;"),
    ("vacuum full", "VACUUM FULL audit_log;"),
    ("vacuum", "VACUUM audit_log;"),
    ("analyze", "ANALYZE orders;"),
    ("cluster", "CLUSTER audit_log USING audit_log_pkey;"),
    ("set unlogged", "ALTER TABLE staged SET UNLOGGED;"),
    ("refresh materialized view", "REFRESH MATERIALIZED VIEW customer_totals;"),
    ("refresh materialized view concurrently", "REFRESH MATERIALIZED VIEW CONCURRENTLY customer_totals;"),
    ("lock table then add a column", "LOCK TABLE orders IN SHARE ROW EXCLUSIVE MODE;\n"
                                     "ALTER TABLE orders ADD COLUMN gift boolean;"),
    ("comment on column", "COMMENT ON COLUMN orders.note IS 'free text from the customer';"),
    ("create view", "CREATE VIEW open_orders AS SELECT id, total FROM orders WHERE status = 'open';"),
    # partitions
    ("attach partition without a CHECK", "ALTER TABLE events ATTACH PARTITION events_2025 "
                                         "FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');"),
    ("attach partition with a matching CHECK", "ALTER TABLE events ATTACH PARTITION events_2026 "
                                               "FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');"),
    ("detach partition", "ALTER TABLE events DETACH PARTITION events_2024;"),
    # types, domains, sequences
    ("enum value added", "ALTER TYPE mood ADD VALUE 'great';"),
    ("enum value renamed", "ALTER TYPE mood RENAME VALUE 'happy' TO 'glad';"),
    ("domain constraint added", "ALTER DOMAIN weight_kg ADD CONSTRAINT weight_positive CHECK (VALUE >= 0);"),
    ("constraint added to an unused domain", "ALTER DOMAIN unused_code ADD CONSTRAINT code_short "
                                             "CHECK (length(VALUE) < 10);"),
    ("sequence restarted", "ALTER SEQUENCE invoice_seq RESTART;"),
    ("identity restarted at 1", "ALTER TABLE orders ALTER COLUMN id RESTART WITH 1;"),
    ("sequence restarted above its values", "ALTER SEQUENCE invoice_seq RESTART WITH 1000000;"),
    ("sequence increment changed", "ALTER SEQUENCE invoice_seq INCREMENT BY 10;"),
    # data changes
    ("update without WHERE", "UPDATE orders SET note = 'x';"),
    ("update WHERE 1 = 1", "UPDATE orders SET note = 'x' WHERE 1 = 1;"),
    ("update WHERE true", "UPDATE orders SET note = 'x' WHERE true;"),
    ("update WHERE id = id", "UPDATE orders SET note = 'x' WHERE id = id;"),
    ("update WHERE a NOT NULL column IS NOT NULL", "UPDATE orders SET note = 'x' WHERE status IS NOT NULL;"),
    ("update matching most rows", "UPDATE orders SET status = 'pending' WHERE status = 'open';"),
    ("update one row", "UPDATE orders SET note = 'x' WHERE id = 42;"),
    ("update a few rows", "UPDATE orders SET note = 'x' WHERE id IN (1, 2, 3);"),
    ("update matching nothing", "UPDATE orders SET note = 'x' WHERE placed_at < '2000-01-01';"),
    ("delete without WHERE", "DELETE FROM audit_log;"),
    ("delete old rows, all of them", "DELETE FROM audit_log WHERE at < now();"),
    ("delete one row", "DELETE FROM audit_log WHERE id = 7;"),
    ("insert values", "INSERT INTO audit_log (at, msg) VALUES (now(), 'migrated');"),
    ("insert select from a big table", "CREATE TABLE orders_archive (LIKE orders);\n"
                                       "INSERT INTO orders_archive SELECT * FROM orders;"),
    ("insert select of one row", "INSERT INTO customers (email, name, region) "
                                 "SELECT email || '.copy', name, region FROM customers WHERE id = 1;"),
    ("insert select from VALUES",
     "INSERT INTO audit_log (at, msg) SELECT now(), v FROM (VALUES ('a'), ('b')) AS t(v);"),
    ("add column then backfill one row", "ALTER TABLE orders ADD COLUMN gift boolean;\n"
                                         "UPDATE orders SET gift = true WHERE id = 5;"),
    ("add column then backfill every row", "ALTER TABLE orders ADD COLUMN gift boolean;\n"
                                           "UPDATE orders SET gift = false WHERE gift IS NULL;"),
    ("set lock_timeout then add column", "SET lock_timeout = '2s';\nALTER TABLE orders ADD COLUMN gift boolean;"),
    ("create function", "CREATE FUNCTION order_count() RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM orders';"),
    # more of the ALTER TABLE family, and the ways code breaks
    ("type restated unchanged", "ALTER TABLE orders ALTER COLUMN total TYPE numeric(10, 2);"),
    ("int to int (no change)", "ALTER TABLE orders ALTER COLUMN qty TYPE integer;"),
    ("varchar to char", "ALTER TABLE orders ALTER COLUMN code TYPE char(10);"),
    ("collation changed on an unindexed column", 'ALTER TABLE orders ALTER COLUMN code TYPE varchar(10) COLLATE "C";'),
    ("collation changed on an indexed column", 'ALTER TABLE orders ALTER COLUMN status TYPE varchar(20) COLLATE "C";'),
    ("identity added to an existing column",
     "ALTER TABLE unkeyed ALTER COLUMN a ADD GENERATED BY DEFAULT AS IDENTITY;"),
    ("add column defaulting to current_date", "ALTER TABLE orders ADD COLUMN booked date DEFAULT current_date;"),
    ("add column of a domain type", "ALTER TABLE orders ADD COLUMN tare weight_kg;"),
    ("storage parameter", "ALTER TABLE orders SET (fillfactor = 70);"),
    ("replica identity", "ALTER TABLE orders REPLICA IDENTITY FULL;"),
    ("foreign key made deferrable", "ALTER TABLE orders ALTER CONSTRAINT orders_customer_fk DEFERRABLE;"),
    ("drop foreign key", "ALTER TABLE orders DROP CONSTRAINT orders_customer_fk;"),
    ("drop materialized view", "DROP MATERIALIZED VIEW customer_totals;"),
    ("setval back to 1", "SELECT setval('invoice_seq', 1);"),
    ("setval above the values", "SELECT setval('invoice_seq', 5000000);"),
    ("update joined to another table", "UPDATE orders o SET region = c.region FROM customers c "
                                       "WHERE c.id = o.customer_id;"),
    ("delete by a subquery matching nothing", "DELETE FROM orders WHERE customer_id IN "
                                              "(SELECT id FROM customers WHERE region = 'us');"),
    ("insert on conflict do nothing", "INSERT INTO customers (email, name, region) "
                                      "VALUES ('c1@example.com', 'x', 'eu') ON CONFLICT DO NOTHING;"),
    ("grant", "GRANT SELECT ON orders TO PUBLIC;"),
    ("add column defaulting to statement_timestamp()",
     "ALTER TABLE orders ADD COLUMN noted timestamptz DEFAULT statement_timestamp();"),
    ("int to bigint with USING a cast", "ALTER TABLE orders ALTER COLUMN qty TYPE bigint USING qty::bigint;"),
    ("set not null on a NOT NULL column", "ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;"),
    ("index on a partitioned table", "CREATE INDEX events_at_idx ON events (at);"),
    ("add column and a CHECK on it in one ALTER", "ALTER TABLE orders ADD COLUMN extra int NOT NULL DEFAULT 0, "
                                                  "ADD CONSTRAINT orders_extra_nonneg CHECK (extra >= 0);"),
    ("create table as select", "CREATE TABLE orders_copy AS SELECT * FROM orders;"),
    ("drop column if exists", "ALTER TABLE orders DROP COLUMN IF EXISTS note;"),
    ("indexed varchar restated", "ALTER TABLE orders ALTER COLUMN status TYPE varchar(20);"),
    ("update half the rows by key range", "UPDATE orders SET note = 'y' WHERE id < 500;"),
    ("set default and set not null in one ALTER",
     "ALTER TABLE orders ALTER COLUMN total SET DEFAULT 0, ALTER COLUMN total SET NOT NULL;"),
]

MARIADB = [
    # column types: in place or instant when the storage does not change, else a copy that blocks writes
    ("int to bigint", "ALTER TABLE orders MODIFY qty BIGINT NOT NULL;"),
    ("decimal precision raised", "ALTER TABLE orders MODIFY total DECIMAL(14, 2);"),
    ("varchar widened within 255 bytes (utf8mb4)", "ALTER TABLE orders MODIFY code VARCHAR(63);"),
    ("varchar widened past 255 bytes (utf8mb4)", "ALTER TABLE orders MODIFY code VARCHAR(64);"),
    ("latin1 varchar widened to 255", "ALTER TABLE orders MODIFY label VARCHAR(255) CHARACTER SET latin1;"),
    ("latin1 varchar widened to 256", "ALTER TABLE orders MODIFY label VARCHAR(256) CHARACTER SET latin1;"),
    ("long varchar widened", "ALTER TABLE orders MODIFY note VARCHAR(500);"),
    ("varchar narrowed", "ALTER TABLE orders MODIFY code VARCHAR(30);"),
    ("indexed varchar widened within 255 bytes",
     "ALTER TABLE orders MODIFY status VARCHAR(40) NOT NULL DEFAULT 'open';"),
    ("varchar to text", "ALTER TABLE orders MODIFY note TEXT;"),
    ("enum value appended", "ALTER TABLE orders MODIFY mood ENUM('sad', 'ok', 'happy', 'great');"),
    ("enum value inserted first", "ALTER TABLE orders MODIFY mood ENUM('meh', 'sad', 'ok', 'happy');"),
    ("enum values reordered", "ALTER TABLE orders MODIFY mood ENUM('happy', 'ok', 'sad');"),
    ("set member appended", "ALTER TABLE orders MODIFY flags SET('gift', 'rush', 'fragile', 'oversize');"),
    ("comment only", "ALTER TABLE orders MODIFY total DECIMAL(10, 2) COMMENT 'gross, in EUR';"),
    ("restated with a new default", "ALTER TABLE orders MODIFY status VARCHAR(20) NOT NULL DEFAULT 'new';"),
    ("restated unchanged", "ALTER TABLE orders MODIFY placed_at DATETIME;"),
    ("datetime to timestamp", "ALTER TABLE orders MODIFY placed_at TIMESTAMP NULL;"),
    ("NULL to NOT NULL", "ALTER TABLE orders MODIFY ref VARCHAR(40) NOT NULL;"),
    ("NOT NULL to NULL", "ALTER TABLE orders MODIFY qty INT NULL;"),
    ("column charset latin1 to utf8mb4", "ALTER TABLE orders MODIFY label VARCHAR(200) CHARACTER SET utf8mb4;"),
    ("column moved first", "ALTER TABLE orders MODIFY note VARCHAR(300) FIRST;"),
    ("CHANGE renames and keeps the type", "ALTER TABLE orders CHANGE note remark VARCHAR(300);"),
    ("CHANGE with the same name widens", "ALTER TABLE orders CHANGE code code VARCHAR(62);"),
    ("type change on a new table", "CREATE TABLE coupons (id INT PRIMARY KEY, code VARCHAR(10));\n"
                                   "ALTER TABLE coupons MODIFY code BIGINT;"),
    # ALTER COLUMN
    ("set default", "ALTER TABLE orders ALTER COLUMN status SET DEFAULT 'new';"),
    ("drop default", "ALTER TABLE orders ALTER COLUMN status DROP DEFAULT;"),
    # adding and dropping columns
    ("add column", "ALTER TABLE orders ADD COLUMN gift TINYINT;"),
    ("add column after another", "ALTER TABLE orders ADD COLUMN gift TINYINT AFTER id;"),
    ("add column first", "ALTER TABLE orders ADD COLUMN gift TINYINT FIRST;"),
    ("add NOT NULL column without default", "ALTER TABLE orders ADD COLUMN tier INT NOT NULL;"),
    ("add column with default", "ALTER TABLE orders ADD COLUMN source VARCHAR(20) NOT NULL DEFAULT 'web';"),
    ("add virtual generated column", "ALTER TABLE orders ADD COLUMN double_qty INT AS (qty * 2) VIRTUAL;"),
    ("add stored generated column", "ALTER TABLE orders ADD COLUMN double_qty INT AS (qty * 2) STORED;"),
    ("add auto_increment column", "ALTER TABLE unkeyed ADD COLUMN id INT AUTO_INCREMENT UNIQUE;"),
    ("add column to a table with a FULLTEXT index", "ALTER TABLE articles ADD COLUMN views INT;"),
    ("add column stating INSTANT", "ALTER TABLE orders ADD COLUMN gift TINYINT, ALGORITHM=INSTANT;"),
    ("add two columns", "ALTER TABLE orders ADD COLUMN gift TINYINT, ADD COLUMN wrap VARCHAR(20);"),
    ("drop column", "ALTER TABLE orders DROP COLUMN note;"),
    ("drop a column added in the change", "ALTER TABLE orders ADD COLUMN memo TEXT;\n"
                                          "ALTER TABLE orders DROP COLUMN memo;"),
    ("rename column", "ALTER TABLE orders RENAME COLUMN note TO remark;"),
    ("rename a column added in the change", "ALTER TABLE orders ADD COLUMN memo TEXT;\n"
                                            "ALTER TABLE orders RENAME COLUMN memo TO memo_text;"),
    # indexes and constraints
    ("create index", "CREATE INDEX orders_note_idx ON orders (note);"),
    ("add index", "ALTER TABLE orders ADD INDEX orders_placed_idx (placed_at);"),
    ("add unique key", "ALTER TABLE orders ADD UNIQUE KEY orders_ref_key (ref);"),
    ("add FULLTEXT index", "ALTER TABLE orders ADD FULLTEXT INDEX orders_note_ft (note);"),
    ("second FULLTEXT index", "ALTER TABLE articles ADD FULLTEXT INDEX articles_title_ft (title);"),
    ("drop index", "DROP INDEX orders_status_idx ON orders;"),
    ("alter table drop index", "ALTER TABLE orders DROP INDEX orders_status_idx;"),
    ("rename index", "ALTER TABLE orders RENAME INDEX orders_status_idx TO orders_state_idx;"),
    ("add foreign key", "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) "
                        "REFERENCES customers (id);"),
    ("add CHECK constraint", "ALTER TABLE orders ADD CONSTRAINT orders_qty_positive CHECK (qty > 0);"),
    ("add primary key", "ALTER TABLE unkeyed ADD PRIMARY KEY (a);"),
    ("drop primary key", "ALTER TABLE legacy_notes DROP PRIMARY KEY;"),
    ("add column then backfill one row", "ALTER TABLE orders ADD COLUMN gift TINYINT;\n"
                                         "UPDATE orders SET gift = 1 WHERE id = 5;"),
    ("add column then backfill every row", "ALTER TABLE orders ADD COLUMN gift TINYINT;\n"
                                           "UPDATE orders SET gift = 0 WHERE gift IS NULL;"),
    ("index on a new table", "CREATE TABLE coupons (id INT PRIMARY KEY, code VARCHAR(20));\n"
                             "CREATE INDEX coupons_code_idx ON coupons (code);"),
    # whole-table operations
    ("convert to another charset", "ALTER TABLE legacy_notes CONVERT TO CHARACTER SET latin1;"),
    ("force rebuild", "ALTER TABLE audit_log FORCE;"),
    ("engine restated", "ALTER TABLE audit_log ENGINE=InnoDB;"),
    ("row format changed", "ALTER TABLE audit_log ROW_FORMAT=COMPACT;"),
    ("table comment", "ALTER TABLE orders COMMENT = 'customer orders';"),
    ("auto_increment raised", "ALTER TABLE orders AUTO_INCREMENT = 100000;"),
    ("rename table", "RENAME TABLE legacy_notes TO old_notes;"),
    ("alter table rename", "ALTER TABLE legacy_notes RENAME TO old_notes;"),
    ("rename a table created in the change", "CREATE TABLE scratch (id INT);\nRENAME TABLE scratch TO scratch2;"),
    ("drop table with rows", "DROP TABLE legacy_notes;"),
    ("drop a table created in the change", "CREATE TABLE scratch (id INT);\nDROP TABLE scratch;"),
    ("truncate", "TRUNCATE TABLE audit_log;"),
    ("create table", "CREATE TABLE coupons (id INT AUTO_INCREMENT PRIMARY KEY, code VARCHAR(20) NOT NULL);"),
    # data changes
    ("update without WHERE", "UPDATE orders SET note = 'x';"),
    ("update WHERE 1 = 1", "UPDATE orders SET note = 'x' WHERE 1 = 1;"),
    ("update WHERE TRUE", "UPDATE orders SET note = 'x' WHERE TRUE;"),
    ("update WHERE id = id", "UPDATE orders SET note = 'x' WHERE id = id;"),
    ("update matching most rows", "UPDATE orders SET status = 'pending' WHERE status = 'open';"),
    ("update one row", "UPDATE orders SET note = 'x' WHERE id = 42;"),
    ("update matching nothing", "UPDATE orders SET note = 'x' WHERE id > 1000000;"),
    ("delete without WHERE", "DELETE FROM audit_log;"),
    ("delete old rows, all of them", "DELETE FROM audit_log WHERE at < NOW();"),
    ("delete one row", "DELETE FROM audit_log WHERE id = 7;"),
    ("delete a few rows with LIMIT", "DELETE FROM audit_log WHERE msg LIKE 'entry%' LIMIT 5;"),
    ("insert values", "INSERT INTO audit_log (at, msg) VALUES (NOW(), 'migrated');"),
    ("insert select from a big table", "CREATE TABLE orders_archive LIKE orders;\n"
                                       "INSERT INTO orders_archive SELECT * FROM orders;"),
    ("insert select of one row", "INSERT INTO customers (email, name) "
                                 "SELECT CONCAT(email, '.copy'), name FROM customers WHERE id = 1;"),
    # more column changes, and joins
    ("column moved after another, unchanged", "ALTER TABLE orders MODIFY qty INT NOT NULL AFTER status;"),
    ("CHANGE renames and keeps NOT NULL", "ALTER TABLE orders CHANGE qty quantity INT NOT NULL;"),
    ("add column with UNIQUE", "ALTER TABLE orders ADD COLUMN public_id INT UNIQUE;"),
    ("two indexes at once", "ALTER TABLE orders ADD INDEX orders_code_idx (code), ADD INDEX orders_label_idx (label);"),
    ("decimal made NOT NULL", "ALTER TABLE orders MODIFY total DECIMAL(10, 2) NOT NULL;"),
    ("collation changed on an unindexed column",
     "ALTER TABLE orders MODIFY code VARCHAR(60) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;"),
    ("collation changed on an indexed column",
     "ALTER TABLE orders MODIFY status VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL DEFAULT 'open';"),
    ("engine changed to MyISAM", "ALTER TABLE legacy_notes ENGINE=MyISAM;"),
    ("enum made NOT NULL", "ALTER TABLE orders MODIFY mood ENUM('sad', 'ok', 'happy') NOT NULL;"),
    ("set member removed", "ALTER TABLE orders MODIFY flags SET('gift', 'rush');"),
    ("int narrowed to smallint", "ALTER TABLE orders MODIFY qty SMALLINT NOT NULL;"),
    ("int made unsigned", "ALTER TABLE orders MODIFY qty INT UNSIGNED NOT NULL;"),
    ("varchar made NOT NULL with a default", "ALTER TABLE orders MODIFY note VARCHAR(300) NOT NULL DEFAULT '';"),
    ("add column and its index", "ALTER TABLE orders ADD COLUMN batch INT, ADD INDEX orders_batch_idx (batch);"),
    ("update joined to another table", "UPDATE orders o JOIN customers c ON c.id = o.customer_id SET o.note = c.name;"),
    ("replace one row", "REPLACE INTO customers (id, email, name) VALUES (1, 'c1@example.com', 'renamed');"),
    ("insert on duplicate key update", "INSERT INTO customers (email, name) VALUES ('c2@example.com', 'x') "
                                       "ON DUPLICATE KEY UPDATE name = VALUES(name);"),
    ("add column with an expression default", "ALTER TABLE orders ADD COLUMN double_qty INT DEFAULT (qty * 2);"),
    ("add column defaulting to UUID()", "ALTER TABLE orders ADD COLUMN token CHAR(36) DEFAULT (UUID());"),
    ("add column defaulting to CURRENT_TIMESTAMP",
     "ALTER TABLE orders ADD COLUMN seen TIMESTAMP NULL DEFAULT CURRENT_TIMESTAMP;"),
    ("primary key replaced in one ALTER", "ALTER TABLE legacy_notes DROP PRIMARY KEY, ADD PRIMARY KEY (id, body(10));"),
    ("add PERSISTENT generated column", "ALTER TABLE orders ADD COLUMN double_qty INT AS (qty * 2) PERSISTENT;"),
    ("update half the rows by key range", "UPDATE orders SET note = 'y' WHERE id < 500;"),
    ("modify the auto_increment key to BIGINT", "ALTER TABLE orders MODIFY id BIGINT NOT NULL AUTO_INCREMENT;"),
]

CASES = [Case("postgresql", note, sql) for note, sql in PG] + [Case("mariadb", note, sql) for note, sql in MARIADB]
