"""Live context: with --url, lint reads version and table sizes and escalates on big tables.

The PostgreSQL and MariaDB cases need the local servers (marked integration); SQLite needs none.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from dualpath.lint import run_lint
from dualpath.risk import context
from dualpath.risk.lint import lint_paths


def test_sqlite_url_gives_the_version_and_no_sizes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    with create_engine(url).begin() as conn:
        conn.execute(text("CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL)"))
    sql = tmp_path / "a.sql"
    sql.write_text("ALTER TABLE orders ALTER COLUMN total TYPE TEXT;\n")
    found = lint_paths([sql], dialect="sqlite", url=url)
    assert [f.rule for f in found] == ["DP057"]


def test_dialect_that_does_not_match_the_server_exits_2(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    sql = tmp_path / "a.sql"
    sql.write_text("SELECT 1;\n")
    out, code = run_lint([sql], dialect="postgresql", url=url)
    assert code == 2 and "sqlite" in out


@pytest.mark.integration
@pytest.mark.parametrize("backend", ["postgresql", "mysql"])
def test_big_tables_escalate_and_show_size(backend: str, tmp_path: Path, request: pytest.FixtureRequest,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.integration.dbs import server_database

    with server_database(backend, request.node.name) as url:
        seed_orders(url, backend, rows=2000)
        monkeypatch.setattr(context, "BIG_ROWS", 1000)  # "big" without writing a million rows
        sql = tmp_path / "a.sql"
        statement = ("ALTER TABLE orders ADD COLUMN ref uuid DEFAULT gen_random_uuid();" if backend == "postgresql"
                     else "ALTER TABLE orders MODIFY COLUMN total DECIMAL(14, 2);")
        sql.write_text(statement + "\n")
        found = lint_paths([sql], dialect=backend, url=url)
    rule = "DP008" if backend == "postgresql" else "DP051"
    finding = next(f for f in found if f.rule == rule)
    assert finding.severity == "error"  # a warning, escalated on a big table
    assert "rows" in finding.message and "≈" in finding.message


def seed_orders(url: str, backend: str, rows: int) -> None:
    from dualpath.urls import parse_url

    engine = create_engine(parse_url(url))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE orders (id INT PRIMARY KEY, total NUMERIC(10, 2))"))
        conn.execute(text("INSERT INTO orders (id, total) VALUES (:id, 1)"), [{"id": i} for i in range(rows)])
        conn.execute(text("ANALYZE orders" if backend == "postgresql" else "ANALYZE TABLE orders"))
    engine.dispose()
