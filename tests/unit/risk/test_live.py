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
    # with --url the statement is measured on a shadow: the measured rewrite (DP080) settles the static
    # guess (DP008, DP051), and its severity scales with the live table
    assert not {"DP008", "DP051"} & {f.rule for f in found}, found
    finding = next(f for f in found if f.rule == "DP080")
    assert "rewritten" in finding.message or "copied" in finding.message
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


def test_a_remark_stays_a_remark_on_a_big_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """Size escalates hazards (warning → error), not remarks: an online step stays info however big."""
    from dualpath.changes import Change
    from dualpath.risk.catalogue import catalogue_for
    from dualpath.risk.check import check_change
    from dualpath.risk.live import TableSize
    from dualpath.sql import split_statements

    sql = "ALTER TABLE orders FORCE;\nALTER TABLE orders MODIFY total DECIMAL(20, 4);"
    change = Change(version="1", description="x", forward=tuple(split_statements(sql, file="a.sql", dialect="mysql")),
                    rollback=(), file="a.sql")
    found = check_change(change, catalogue_for("mariadb", (10, 11)), knows_rollback=False,
                         sizes={"shop.orders": TableSize(rows=5_000_000, bytes=2 << 30)})
    severities = {f.rule: f.severity for f in found}
    assert severities["DP052"] == "info" and severities["DP051"] == "error"  # online rebuild; a copy
