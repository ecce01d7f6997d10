"""``dualpath lint --fix --write``: each fixed migration applies on the real PostgreSQL server and
lints clean of the rule it was fixed for."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from dualpath.changes import Change
from dualpath.sources import read_changes
from tests.integration.helpers import run_cli

pytestmark = pytest.mark.integration

BASE = """\
CREATE TABLE customers (id bigint PRIMARY KEY);
CREATE TABLE orders (
    id bigint PRIMARY KEY,
    customer_id bigint,
    code text,
    total numeric,
    state text
);
INSERT INTO customers VALUES (1), (2);
INSERT INTO orders SELECT n, 1 + mod(n, 2), 'c' || n, n, NULL FROM generate_series(1, 50) AS n;
"""

# rule → (unsafe forward statement, its rollback, SQL whose answer shows the fix really ran)
CASES = {
    "DP001": ("CREATE INDEX orders_code_idx ON orders (code);",
              "DROP INDEX orders_code_idx;",
              "SELECT indisvalid FROM pg_index WHERE indexrelid = 'orders_code_idx'::regclass"),
    "DP004": ("ALTER TABLE orders ADD CONSTRAINT orders_customer_fk\n"
              "  FOREIGN KEY (customer_id) REFERENCES customers (id);",
              "ALTER TABLE orders DROP CONSTRAINT orders_customer_fk;",
              "SELECT convalidated FROM pg_constraint WHERE conname = 'orders_customer_fk'"),
    "DP005": ("ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total > 0);",
              "ALTER TABLE orders DROP CONSTRAINT orders_total_positive;",
              "SELECT convalidated FROM pg_constraint WHERE conname = 'orders_total_positive'"),
    "DP006": ("ALTER TABLE orders ALTER COLUMN customer_id SET NOT NULL;",
              "ALTER TABLE orders ALTER COLUMN customer_id DROP NOT NULL;",
              "SELECT attnotnull AND NOT EXISTS (SELECT FROM pg_constraint WHERE contype = 'c' "
              "AND conrelid = 'orders'::regclass) FROM pg_attribute "
              "WHERE attrelid = 'orders'::regclass AND attname = 'customer_id'"),
    "DP015": ("ALTER TABLE orders ADD CONSTRAINT orders_code_key UNIQUE (code);",
              "ALTER TABLE orders DROP CONSTRAINT orders_code_key;",
              "SELECT contype = 'u' FROM pg_constraint WHERE conname = 'orders_code_key'"),
    "DP016": ("ALTER TABLE orders ADD PRIMARY KEY (code);",
              "ALTER TABLE orders DROP CONSTRAINT orders_pkey;",
              "SELECT conkey = ARRAY[3::int2] FROM pg_constraint WHERE conname = 'orders_pkey'"),
    "DP043": ("UPDATE orders SET state = 'open' WHERE state IS NULL;",
              "UPDATE orders SET state = NULL WHERE state = 'open';",
              "SELECT count(*) = 50 FROM orders WHERE state = 'open'"),
}


def _project(tmp_path: Path, rule: str) -> Path:
    forward, rollback, _ = CASES[rule]
    base = BASE
    if rule == "DP016":  # a table without a primary key, to add one
        base = base.replace("id bigint PRIMARY KEY,\n    customer_id", "id bigint,\n    customer_id")
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "V1__base.sql").write_text(base)
    (folder / "U1__base.sql").write_text("DROP TABLE orders;\nDROP TABLE customers;\n")
    (folder / "V2__change.sql").write_text(f"-- the change under test\n{forward}\n")
    (folder / "U2__change.sql").write_text(f"{rollback}\n")
    return folder


def _rules(folder: Path) -> set[str]:
    result = run_cli("lint", "--format", "json", "--engine-version", "16", str(folder))
    return {f["rule"] for f in json.loads(result.stdout) if f["file"].endswith("V2__change.sql")}


def _apply(conn: psycopg.Connection, change: Change) -> None:
    """Run the forward statements as a migration runner must: one transaction, or each statement on
    its own when the change is marked no-transaction (CONCURRENTLY refuses a transaction block)."""
    if change.no_transaction:
        for statement in change.forward:
            conn.execute(statement.text)
    else:
        with conn.transaction():
            for statement in change.forward:
                conn.execute(statement.text)


@pytest.mark.parametrize("rule", sorted(CASES))
def test_fixed_change_applies_and_lints_clean(rule: str, pg_url: str, tmp_path: Path) -> None:
    folder = _project(tmp_path, rule)
    assert rule in _rules(folder)
    before = (folder / "V2__change.sql").read_text()

    shown = run_cli("lint", "--fix", str(folder))
    assert shown.exit_code == 0, shown.output
    assert "+" in shown.stdout and (folder / "V2__change.sql").read_text() == before  # --fix alone writes nothing

    written = run_cli("lint", "--fix", "--write", str(folder))
    assert written.exit_code == 0, written.output
    after = (folder / "V2__change.sql").read_text()
    assert after != before and after.startswith("-- the change under test\n")
    assert rule not in _rules(folder)

    with psycopg.connect(pg_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        for change in read_changes(folder, dialect="postgresql"):
            _apply(conn, change)
        row = conn.execute(CASES[rule][2]).fetchone()
    assert row is not None and row[0] is True, after

    again = run_cli("lint", "--fix", str(folder))  # nothing left to fix: the fix is idempotent
    assert again.stdout == "", again.stdout
