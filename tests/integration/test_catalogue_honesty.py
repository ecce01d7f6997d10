"""The rules stay honest: what lint says about a statement is what the server measurably does.

Two parts.

The measured corpus (tests/corpus): over 250 statements written for dualpath, PostgreSQL and MariaDB,
about half of them safe ones that look dangerous. Each runs on a freshly reset database (one per
engine) and is labelled hazard or safe by what the server did (tests/corpus/hazard.py holds the
definition, docs/rules/index.md says it in words): a second session blocked while a rewrite,
scan or index build ran; data gone; an application query that broke; a refusal; a mass change.
Then lint's verdict on the same statement must agree: with ``--url`` exactly, without a server
either exactly or by saying what the truth depends on. A disagreement is a rule bug (or a case
whose measurement is ambiguous: change the case), never a reason to relabel by hand.

The lock catalogue: each statement's lock, measured by a rehearsal (``rehearse_up``, what
``dualpath verify`` and ``plan --rehearse`` do), equals the prediction for that server's version.
A lock that blocks no reads or writes (ACCESS SHARE of a read, ROW SHARE of a foreign key check)
on a table the catalogue expects no lock on counts as "none": the SQL does not say every table a
statement reads.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dualpath.changes import Change
from dualpath.engines import open_engine
from dualpath.rehearse import Measured, harmless, rehearse_up
from dualpath.risk.catalogue import catalogue_for
from dualpath.risk.catalogue.postgres import BLOCKS
from dualpath.sql import split_statements
from tests.corpus import measure_mariadb, measure_pg
from tests.corpus.cases import CASES, Case
from tests.corpus.verdict import DEPENDS, HAZARD, SAFE, explain, lint_case, verdict
from tests.integration.dbs import server_database

MEASURE = {"postgresql": measure_pg, "mariadb": measure_mariadb}
LABELS: dict[str, str] = {}  # case id → measured label, for the corpus-wide checks at the end


@pytest.fixture(scope="module")
def corpus_urls() -> Iterator[dict[str, str]]:
    """One database per engine for the whole corpus; each case resets it."""
    with server_database("postgresql", "corpus_pg") as pg, server_database("mysql", "corpus_maria") as maria:
        yield {"postgresql": pg, "mariadb": maria}


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_lint_agrees_with_the_measurement(corpus_urls: dict[str, str], case: Case) -> None:
    url, measure = corpus_urls[case.engine], MEASURE[case.engine]
    measure.reset(url)
    without_server = lint_case(case, None)
    with_server = lint_case(case, url)  # the database still holds the schema as it was before the change
    observed = measure.measure(url, case.sql)
    assert not observed.ambiguous, f"the measurement does not settle this case: {observed.ambiguous}"
    label = HAZARD if observed.hazard else SAFE
    LABELS[case.id] = label
    assert verdict(with_server) == label, (f"measured {observed.describe()}\n"
                                           f"lint --url says: {explain(with_server)}")
    assert verdict(without_server) in (label, DEPENDS), (f"measured {observed.describe()}\n"
                                                         f"lint says: {explain(without_server)}")
    assert not any(f.depends for f in with_server), "with the server at hand nothing should be left open"


def test_the_corpus_is_big_balanced_and_covers_both_engines() -> None:
    assert len(CASES) >= 150 and {c.engine for c in CASES} == {"postgresql", "mariadb"}
    assert len({c.id for c in CASES}) == len(CASES)
    if len(LABELS) < len(CASES):
        pytest.skip("the balance is known once every case was measured in this run")
    safe = sum(label == SAFE for label in LABELS.values()) / len(LABELS)
    assert 0.35 <= safe <= 0.65, f"{safe:.0%} of the corpus measured safe: about half should be"

PG_SCHEMA = """
CREATE TABLE customers (id bigint PRIMARY KEY, email text);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint, total int, note text);
CREATE INDEX orders_total_idx ON orders (total);
ALTER TABLE orders ADD CONSTRAINT orders_total_nonneg CHECK (total >= 0) NOT VALID;
ALTER TABLE orders ADD CONSTRAINT orders_customer_nv FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
CREATE TABLE events (id bigint, at date) PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE events_2025 (id bigint, at date);
CREATE MATERIALIZED VIEW customer_emails AS SELECT id, email FROM customers;
CREATE UNIQUE INDEX customer_emails_key ON customer_emails (id);
"""

PG_CASES = {
    "add column": "ALTER TABLE orders ADD COLUMN c int",
    "add column with default": "ALTER TABLE orders ADD COLUMN c int NOT NULL DEFAULT 0",
    "add column with volatile default": "ALTER TABLE orders ADD COLUMN r float DEFAULT random()",
    "set not null": "ALTER TABLE orders ALTER COLUMN total SET NOT NULL",
    "add not null check": "ALTER TABLE orders ADD CONSTRAINT orders_total_nn CHECK (total IS NOT NULL) NOT VALID",
    "set not null with check": "ALTER TABLE orders ADD CONSTRAINT orders_total_nn "
                               "CHECK (total IS NOT NULL) NOT VALID;\n"
                               "-- dualpath:no-transaction\n"
                               "ALTER TABLE orders VALIDATE CONSTRAINT orders_total_nn;\n"
                               "ALTER TABLE orders ALTER COLUMN total SET NOT NULL",
    "add foreign key": "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) "
                       "REFERENCES customers (id)",
    "add foreign key not valid": "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) "
                                 "REFERENCES customers (id) NOT VALID",
    "validate foreign key": "ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_nv",
    "validate check": "ALTER TABLE orders VALIDATE CONSTRAINT orders_total_nonneg",
    "add check": "ALTER TABLE orders ADD CONSTRAINT orders_total_small CHECK (total < 1000000)",
    "create index": "CREATE INDEX orders_customer_idx ON orders (customer_id)",
    "create index concurrently": "CREATE INDEX CONCURRENTLY orders_customer_idx ON orders (customer_id)",
    "drop index": "DROP INDEX orders_total_idx",
    "drop index concurrently": "DROP INDEX CONCURRENTLY orders_total_idx",
    "rename table": "ALTER TABLE orders RENAME TO purchases",
    "rename column": "ALTER TABLE orders RENAME COLUMN note TO remark",
    "alter column type": "ALTER TABLE orders ALTER COLUMN total TYPE bigint",
    "create table with foreign key": "CREATE TABLE invoices (id bigint PRIMARY KEY, "
                                     "customer_id bigint REFERENCES customers (id))",
    "truncate": "TRUNCATE orders",
    "vacuum full": "VACUUM FULL orders",
    "cluster": "CLUSTER orders USING orders_pkey",
    "detach partition": "ALTER TABLE events DETACH PARTITION events_2024",
    "detach partition concurrently": "ALTER TABLE events DETACH PARTITION events_2024 CONCURRENTLY",
    "attach partition": "ALTER TABLE events ATTACH PARTITION events_2025 "
                        "FOR VALUES FROM ('2025-01-01') TO ('2026-01-01')",
    "refresh materialized view": "REFRESH MATERIALIZED VIEW customer_emails",
    "refresh materialized view concurrently": "REFRESH MATERIALIZED VIEW CONCURRENTLY customer_emails",
}


def rehearse(url: str, schema: str, sql: str) -> list[Measured]:
    engine = open_engine(url)
    with engine.connect() as conn:
        for statement in split_statements(schema, file="schema.sql", dialect=engine.name):
            conn.exec_driver_sql(statement.text)
        conn.commit()
        catalogue = catalogue_for(engine.flavor, engine.server_version(conn))
        forward = tuple(split_statements(sql, file="case.sql", dialect=engine.name))
        change = Change(version="1", description="case", forward=forward, rollback=(), file="case.sql")
        in_transaction = engine.transactional_ddl and not change.no_transaction
        return rehearse_up(engine, conn, change, catalogue, in_transaction)


def mismatches(measured: list[Measured]) -> list[str]:
    def same(m: Measured) -> bool:
        return not m.stronger and (m.measured_lock or "").upper() == m.predicted_lock.split(" (")[0].upper() \
            or harmless(m.measured_lock or "", m.predicted_lock, BLOCKS)

    return [f"{m.where} {m.table}: measured {m.measured_lock}, predicted {m.predicted_lock} ({m.operation}) "
            f"[{m.method or m.note}]" for m in measured if not same(m)]


@pytest.mark.parametrize("sql", PG_CASES.values(), ids=PG_CASES.keys())
def test_postgresql_lock_matches_the_catalogue(pg_url: str, sql: str) -> None:
    measured = rehearse(pg_url, PG_SCHEMA, sql)
    assert measured, "the rehearsal measured nothing"
    assert all(m.measured_lock is not None for m in measured), measured
    if sql in TWO_PHASE:
        # SHARE UPDATE EXCLUSIVE in its first transaction, ACCESS EXCLUSIVE on the partition in its second:
        # a sample sees one phase or the other, and the catalogue predicts the stronger
        assert not any(m.stronger for m in measured), measured
        assert {str(m.measured_lock).upper() for m in measured} <= TWO_PHASE[sql], measured
    else:
        assert mismatches(measured) == []


TWO_PHASE = {"ALTER TABLE events DETACH PARTITION events_2024 CONCURRENTLY":
             {"SHARE UPDATE EXCLUSIVE", "ACCESS EXCLUSIVE"}}


MY_SCHEMA = """
DROP TABLE IF EXISTS orders, purchases, customers;
CREATE TABLE customers (id BIGINT PRIMARY KEY, email VARCHAR(200)) ENGINE=InnoDB;
CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id BIGINT, total INT, note VARCHAR(100),
                     KEY orders_total_idx (total)) ENGINE=InnoDB;
"""

MY_CASES = {
    "add column": "ALTER TABLE orders ADD COLUMN c INT",
    "add column positioned": "ALTER TABLE orders ADD COLUMN c INT AFTER id",
    "add auto_increment column": "ALTER TABLE orders ADD COLUMN seq INT AUTO_INCREMENT UNIQUE",
    "drop column": "ALTER TABLE orders DROP COLUMN note",
    "rename column": "ALTER TABLE orders RENAME COLUMN note TO remark",
    "modify column type": "ALTER TABLE orders MODIFY total BIGINT",
    "set not null": "ALTER TABLE orders MODIFY total INT NOT NULL",  # see CONSERVATIVE
    "set default": "ALTER TABLE orders ALTER COLUMN total SET DEFAULT 0",
    "create index": "CREATE INDEX orders_customer_idx ON orders (customer_id)",
    "add index": "ALTER TABLE orders ADD INDEX orders_customer_idx (customer_id)",
    "add fulltext index": "ALTER TABLE orders ADD FULLTEXT INDEX orders_note_ft (note)",
    "drop index": "ALTER TABLE orders DROP INDEX orders_total_idx",
    "add unique": "ALTER TABLE orders ADD CONSTRAINT orders_customer_uq UNIQUE (customer_id)",
    "add foreign key": "ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) "
                       "REFERENCES customers (id)",
    "add check": "ALTER TABLE orders ADD CONSTRAINT orders_total_nonneg CHECK (total >= 0)",
    "convert charset": "ALTER TABLE orders CONVERT TO CHARACTER SET latin1",
    "rebuild": "ALTER TABLE orders FORCE",
    "rename table": "RENAME TABLE orders TO purchases",
    "truncate": "TRUNCATE TABLE orders",
}


# MODIFY restates the whole column: whether the type changes (COPY, LOCK=SHARED) or only NULL-ness
# (in place, LOCK=NONE) depends on the column as it is, which the SQL does not say. The catalogue
# predicts the type change: never weaker than the truth. Measured: LOCK=NONE on MariaDB 10.11.
CONSERVATIVE = {"ALTER TABLE orders MODIFY total INT NOT NULL"}


@pytest.mark.parametrize("sql", MY_CASES.values(), ids=MY_CASES.keys())
def test_mariadb_lock_matches_the_catalogue(mysql_url: str, sql: str) -> None:
    measured = rehearse(mysql_url, MY_SCHEMA, sql)
    assert measured, "the rehearsal measured nothing"
    assert all(m.measured_lock is not None and m.method.startswith("blocking probe") for m in measured), measured
    if sql in CONSERVATIVE:
        assert not any(m.stronger for m in measured), measured
        assert mismatches(measured) != [], "the catalogue learnt this case: move it out of CONSERVATIVE"
    else:
        assert mismatches(measured) == []


def test_mariadb_probe_tells_instant_from_copy(mysql_url: str) -> None:
    """ADD COLUMN (INSTANT) lets writes run; MODIFY to BIGINT (COPY) holds writes for the whole copy."""
    instant = rehearse(mysql_url, MY_SCHEMA, "ALTER TABLE orders ADD COLUMN c INT")
    copy = rehearse(mysql_url, MY_SCHEMA, "ALTER TABLE orders MODIFY total BIGINT")
    assert [(m.table, m.measured_lock, m.rewritten) for m in instant] == [("orders", "NONE", False)]
    assert [(m.table, m.measured_lock, m.rewritten) for m in copy] == [("orders", "SHARED", True)]
    assert "server accepted LOCK=NONE" in instant[0].method
    assert "reads ran, writes waited" in copy[0].method and "refused LOCK=NONE" in copy[0].method
