"""`dualpath plan`, `calibrate` and `docs` against the local servers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.helpers import dialect_of, run_cli, write_config
from tests.integration.test_verify import shadows_of
from tests.unit.layouts import write_layout

pytestmark = pytest.mark.integration


def _base(tmp_path: Path, url: str) -> tuple[Path, list[str]]:
    folder = write_layout("flyway", tmp_path / "migrations", dialect_of(url))
    config = write_config(tmp_path, url)
    return folder, ["--config", str(config), "--url", "db", "--migrations", str(folder)]


def test_plan_json_with_rehearsed_locks(any_url: str, tmp_path: Path) -> None:
    folder, base = _base(tmp_path, any_url)
    result = run_cli("plan", *base, "--format", "json", "--rehearse")
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    assert plan["target"] == "db" and plan["rehearsed"] is True
    assert [c["version"] for c in plan["changes"]] == ["1", "2"]
    assert [s["id"] for s in plan["steps"]][:2] == ["1.1", "1.2"]
    assert plan["steps"][0]["where"] == f"{folder / 'V1__create_widgets.sql'}:1"
    assert plan["changes"][0]["rollback_steps"] == ["R1.1"]
    add_price = next(s for s in plan["steps"] if s["version"] == "2")
    assert add_price["operations"][0] == "add_column" and add_price["tables"] == ["widgets"]
    if plan["engine"] == "postgresql":
        assert add_price["measured_lock"] == "ACCESS EXCLUSIVE on widgets"
    elif plan["engine"] in ("mysql", "mariadb"):  # DDL measured by a blocking probe: ADD COLUMN is INSTANT
        assert add_price["measured_lock"] == "NONE on widgets"
    assert plan["throughput"]["source"] == "default"
    assert shadows_of(any_url) == []


def test_plan_markdown_and_html(pg_url: str, tmp_path: Path) -> None:
    _, base = _base(tmp_path, pg_url)
    md = run_cli("plan", *base, "--format", "md")
    assert md.exit_code == 0, md.output
    assert "| **Changes** | 2 |" in md.stdout and "| 2.1 |" in md.stdout
    html = run_cli("plan", *base, "--format", "html")
    assert html.stdout.lstrip().startswith("<!doctype html>") and "<td>2.1</td>" in html.stdout


def test_calibrate_saves_the_throughput_the_plan_then_uses(any_url: str, tmp_path: Path) -> None:
    _, base = _base(tmp_path, any_url)
    done = run_cli("calibrate", "--config", str(tmp_path / "dualpath.toml"), "--url", "db", "--rows", "2000")
    assert done.exit_code == 0, done.output
    saved = list((tmp_path / ".dualpath").glob("calibration-*.json"))
    assert len(saved) == 1
    speed = json.loads(saved[0].read_text())
    assert speed["source"] == "measured" and speed["sample_rows"] == 2000
    assert all(speed[k] > 0 for k in ("index_rows_per_s", "rewrite_bytes_per_s", "update_rows_per_s"))
    plan = json.loads(run_cli("plan", *base, "--format", "json").stdout)
    assert plan["throughput"] == speed
    assert shadows_of(any_url) == []


def test_docs_after_a_run_report_what_ran(any_url: str, tmp_path: Path) -> None:
    _, base = _base(tmp_path, any_url)
    assert run_cli("apply", *base, "--to", "1").exit_code == 0
    out = tmp_path / "docs"
    result = run_cli("docs", *base, "--out", str(out))
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.iterdir())
    assert "runbook.html" in names and "report.json" in names and "index.html" in names
    assert len(names) == 23 and "faq.md" in names  # --out is the project's docs/ here: the FAQ lands beside them
    plan = json.loads((out / "plan.json").read_text())
    assert dict(plan["facts"])["Changes"] == "1"  # only change 2 is pending
    report = json.loads((out / "report.json").read_text())
    assert report["facts"]["Runs"] == "1" and report["facts"]["Failures"] == "0"
    rows = next(s for s in report["sections"] if s["heading"] == "Changes: actual against estimate")["table"]["rows"]
    assert [(r[1], r[2], r[3]) for r in rows] == [("1", "up", "ok")]
    assert "dualpath rollback --url db --steps 1" in (out / "runbook.md").read_text()


_FILL = {
    "postgresql": ["CREATE TABLE items (id bigint PRIMARY KEY, v int)",
                   "INSERT INTO items SELECT g, g FROM generate_series(1, 20000) g", "ANALYZE items"],
    "mysql": ["CREATE TABLE items (id BIGINT PRIMARY KEY, v INT) ENGINE=InnoDB",
              "INSERT INTO items SELECT seq, seq FROM seq_1_to_20000", "ANALYZE TABLE items"],
}


@pytest.mark.parametrize("fixture", ["pg_url", "mysql_url"])
def test_update_with_where_is_estimated_by_the_planner(fixture: str, request: pytest.FixtureRequest) -> None:
    from dualpath.changes import Change
    from dualpath.engines import open_engine
    from dualpath.plan import build_plan, read_target
    from dualpath.sql import split_statements

    engine = open_engine(request.getfixturevalue(fixture))
    with engine.connect() as conn:
        for sql in _FILL[engine.name]:
            conn.exec_driver_sql(sql)
        conn.commit()
    sql = "UPDATE items SET v = 0 WHERE id <= 100;\nDELETE FROM items WHERE v > 0;"
    forward = tuple(split_statements(sql, file="V1.sql", dialect=engine.name))
    change = Change(version="1", description="x", forward=forward, rollback=(), file="V1.sql")
    target = read_target(engine, "db", changes=[change])
    assert target.size_of("items") is not None
    plan = build_plan([change], target)
    update, delete = plan.steps
    assert 50 <= update.rows <= 400, update.rows  # the planner's estimate, not the whole table
    assert delete.rows > 10_000  # a WHERE that matches nearly everything: nearly everything
    assert update.seconds < delete.seconds


@pytest.mark.parametrize("fixture", ["pg_url", "mysql_url"])
def test_plan_judges_type_changes_and_data_changes_by_the_current_schema(
        fixture: str, request: pytest.FixtureRequest) -> None:
    """The plan's findings use the server's schema: widening a column's length keeps the table; a
    targeted update is not mass DML, one that matches nearly every row is."""
    from dualpath.changes import Change
    from dualpath.engines import open_engine
    from dualpath.plan import build_plan, read_target
    from dualpath.sql import split_statements

    engine = open_engine(request.getfixturevalue(fixture))
    with engine.connect() as conn:
        for sql in _FILL[engine.name]:
            conn.exec_driver_sql(sql)
        conn.exec_driver_sql("ALTER TABLE items ADD COLUMN code VARCHAR(10)")
        conn.commit()
    widen = ("ALTER TABLE items ALTER COLUMN code TYPE varchar(40)" if engine.name == "postgresql"
             else "ALTER TABLE items MODIFY code VARCHAR(40)")
    sql = f"{widen};\nUPDATE items SET v = 0 WHERE id = 7;\nUPDATE items SET v = 1 WHERE v > 0;"
    forward = tuple(split_statements(sql, file="V1.sql", dialect=engine.name))
    change = Change(version="1", description="x", forward=forward, rollback=(), file="V1.sql")
    plan = build_plan([change], read_target(engine, "db", changes=[change]))
    flagged = {(f.rule, f.line) for f in plan.findings if f.severity != "info"}
    assert not any(f.depends for f in plan.findings)
    assert ("DP009", 1) not in flagged and ("DP051", 1) not in flagged  # the table is kept
    assert ("DP043", 3) in flagged and ("DP043", 2) not in flagged
