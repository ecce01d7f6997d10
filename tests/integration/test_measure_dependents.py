"""Dependents: what uses a column or table a change drops, renames or retypes, named with what happens to it."""

from __future__ import annotations

from dualpath.risk.model import Finding
from tests.integration.measure_support import measure

PG_SCHEMA = """
CREATE TABLE customers (id bigint PRIMARY KEY, name text, email text, score int,
                        doubled int GENERATED ALWAYS AS (score * 2) STORED, legacy text);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint REFERENCES customers (id), note text);
CREATE VIEW customer_names AS SELECT id, name FROM customers;
ALTER TABLE customers ENABLE ROW LEVEL SECURITY;
CREATE POLICY customers_with_email ON customers USING (email IS NOT NULL);
CREATE FUNCTION legacy_count() RETURNS bigint LANGUAGE plpgsql
  AS $$ BEGIN RETURN (SELECT count(legacy) FROM customers); END $$;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER orders_note BEFORE UPDATE OF note ON orders FOR EACH ROW EXECUTE FUNCTION touch();
"""


def said(findings: list[Finding], *words: str) -> list[Finding]:
    return [f for f in findings if f.rule == "DP081" and all(w in f.message for w in words)]


def test_postgresql_names_what_a_drop_or_type_change_breaks(pg_url: str) -> None:
    _, found = measure(pg_url, PG_SCHEMA, {
        "drop_name": "ALTER TABLE customers DROP COLUMN name",
        "retype_name": "ALTER TABLE customers ALTER COLUMN name TYPE varchar(10)",
        "drop_score": "ALTER TABLE customers DROP COLUMN score",
        "drop_email": "ALTER TABLE customers DROP COLUMN email",
        "drop_note": "ALTER TABLE orders DROP COLUMN note",
        "drop_id": "ALTER TABLE customers DROP COLUMN id",
        "drop_legacy": "ALTER TABLE customers DROP COLUMN legacy",
    })
    [view] = said(found["drop_name"], "view customer_names", "customers.name")
    assert view.severity == "error" and "PostgreSQL refuses" in view.message and "CASCADE" in view.message
    assert "DP080" not in {f.rule for f in found["drop_name"]}  # the refusal is the dependent's to report
    [retype] = said(found["retype_name"], "view customer_names")
    assert retype.severity == "error" and "cannot alter type of a column used by a view" in retype.message
    assert said(found["drop_score"], "generated column customers.doubled")[0].severity == "error"
    assert said(found["drop_email"], "policy customers_with_email")[0].severity == "error"
    assert said(found["drop_note"], "trigger orders_note")[0].severity == "error"
    assert said(found["drop_id"], "foreign key orders_customer_id_fkey on orders")[0].severity == "error"
    [body] = said(found["drop_legacy"], "function legacy_count()")  # PL/pgSQL: not in pg_depend
    assert body.severity == "warning" and "calls fail" in body.message


def test_postgresql_cascade_rename_and_drop_table(pg_url: str) -> None:
    _, found = measure(pg_url, PG_SCHEMA, {
        "rename": "ALTER TABLE customers RENAME COLUMN legacy TO old_code",
        "drop_table": "DROP TABLE orders",
        "cascade": "ALTER TABLE customers DROP COLUMN name CASCADE",
    })
    assert said(found["rename"], "function legacy_count()", "calls fail")[0].severity == "warning"
    assert not said(found["drop_table"], "trigger")  # a table's own triggers go with it
    [silent] = said(found["cascade"], "view customer_names")
    assert silent.severity == "warning" and "dropped silently" in silent.message


MYSQL_SCHEMA = """
CREATE TABLE customers (id bigint PRIMARY KEY, name varchar(50), score int, doubled int AS (score * 2) STORED,
                        legacy varchar(10));
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, note text,
                     CONSTRAINT orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id));
CREATE VIEW customer_names AS SELECT id, name FROM customers;
CREATE PROCEDURE legacy_count() SELECT COUNT(legacy) FROM customers;
CREATE TRIGGER orders_note BEFORE INSERT ON orders FOR EACH ROW
  SET NEW.note = (SELECT name FROM customers WHERE id = NEW.customer_id);
"""


def test_mariadb_names_views_routines_triggers_and_foreign_keys(mysql_url: str) -> None:
    _, found = measure(mysql_url, MYSQL_SCHEMA, {
        "drop_score": "ALTER TABLE customers DROP COLUMN score",
        "drop_id": "ALTER TABLE customers DROP COLUMN id",
        "drop_legacy": "ALTER TABLE customers DROP COLUMN legacy",
        "drop_name": "ALTER TABLE customers DROP COLUMN name",
    })
    assert said(found["drop_score"], "generated column customers.doubled")[0].severity == "error"
    assert said(found["drop_id"], "foreign key orders_customer on orders", "1829")[0].severity == "error"
    assert said(found["drop_legacy"], "procedure legacy_count", "calls fail")[0].severity == "warning"
    [view] = said(found["drop_name"], "view customer_names", "1356")
    assert view.severity == "warning"  # MariaDB runs the drop; the view fails when read
    assert said(found["drop_name"], "trigger orders_note on orders", "every write to orders fails")
