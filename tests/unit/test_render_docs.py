"""The operator documents carry the plan's values, in Markdown, HTML and JSON alike."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from dualpath.render.docset import build_documents
from dualpath.render.document import Document, render_html, render_markdown, write_documents
from dualpath.render.report import RunRecords
from tests.unit.test_plan import sample_plan, sample_settings

KEYS = ["plan", "runbook", "checklist", "risk-register", "briefing", "contingency", "report"]


@pytest.fixture
def docs() -> dict[str, Document]:
    return {d.key: d for d in build_documents(sample_plan(), sample_settings(), RunRecords())}


def test_the_set_is_complete(docs: dict[str, Document]) -> None:
    assert list(docs) == KEYS


def test_plan_document_holds_the_plan_values(docs: dict[str, Document]) -> None:
    plan = docs["plan"]
    facts = dict(plan.facts)
    assert facts["Expected duration"] == "50.0 s"  # index 10 s + rewrite 20 s + update 20 s + 5 × 10 ms
    assert facts["Rewrite size"] == "200.0 MB"
    assert facts["Estimates"] == "calibrated 2024-05-01T00:00:00Z"
    steps = plan.section("Steps").table
    assert steps is not None
    row = next(r for r in steps.rows if r[0] == "1.2")
    assert row[1:6] == ["V1.sql:2", "alter_column_type", "ACCESS EXCLUSIVE", "reads and writes", "yes"]
    assert row[7:] == ["20.0 s", "ACCESS EXCLUSIVE on orders", "R1.1"]


def test_runbook_has_each_environment_with_commands_and_rollback(docs: dict[str, Document]) -> None:
    runbook = docs["runbook"]
    headings = [s.heading for s in runbook.sections]
    assert headings[:3] == ["Before you start", "1. staging", "1. staging: go / no-go"]
    assert "2. prod: roll back when" in headings
    prod = runbook.section("2. prod")
    assert prod.code == ["dualpath verify --url prod\ndualpath plan --url prod --format md\n"
                         "dualpath backup create --url prod\ndualpath run --env prod --approve\n"
                         "dualpath status --url prod --format json"]
    assert "approved by alice, bob" in runbook.section("2. prod: go / no-go").checks
    assert runbook.section("2. prod: roll back when").code[0] == "dualpath rollback --url prod --steps 4"
    rollback_sql = runbook.section("Rollback SQL (what `dualpath rollback` runs)").code
    assert rollback_sql[-1] == "-- R1.1 U1.sql:1\nDROP INDEX orders_k;"


def test_risk_register_lists_risks_not_findings(docs: dict[str, Document]) -> None:
    register = docs["risk-register"]
    table = register.section("Register").table
    assert table is not None
    assert all(not row[1].startswith("DP") for row in table.rows)  # findings are evidence, not entries
    assert all(row[5] == "dba-team" for row in table.rows)  # no [docs.owners]: the dba role
    first = register.section(f"{table.rows[0][0]} · {table.rows[0][1]}")
    assert first.notes[0].startswith("Mitigation: ") and first.notes[1].startswith("Contingency trigger: ")
    appendix = register.section("Appendix: lint findings that are not risks of their own").table
    assert appendix is not None and {r[0] for r in appendix.rows} >= {"DP009"}


def test_briefing_and_contingency_use_the_config(docs: dict[str, Document]) -> None:
    briefing = docs["briefing"]
    assert dict(briefing.facts)["Environment"] == "not given"
    assert briefing.section("Escalation path").items == ["1. on-call DBA", "2. head of platform"]
    assert "missing: the environment of the run (`dualpath docs --env NAME`)" in briefing.section("Missing").items
    questions = docs["contingency"].section("Questions").table
    assert questions is not None
    texts = [row[1] for row in questions.rows]
    assert any("data removed by step 3.1 (drop_table on notes)" in q for q in texts)
    assert any("Who signs off that 3 (drops notes)" in q for q in texts)
    # the impact of locking orders is configured, that of notes is not
    assert [q for q in texts if "What do users notice" in q] == ["What do users notice while notes is locked?"]


def test_report_without_runs_says_so(docs: dict[str, Document]) -> None:
    assert dict(docs["report"].facts) == {"Runs": "0"}


def test_markdown_html_and_json_agree(docs: dict[str, Document], tmp_path: Path) -> None:
    md, html = render_markdown(docs["plan"]), render_html(docs["plan"], list(docs.values()))
    assert "| 1.2 | V1.sql:2 | alter_column_type | ACCESS EXCLUSIVE |" in md
    assert '<td class="nw">V1.sql:2</td>' in html and 'href="runbook.html"' in html
    # the SVG namespace names no resource: the page still loads nothing from anywhere
    assert "<script" not in html and "http" not in re.sub(r"https://t\.example/[\w-]+|http://www\.w3\.org/2000/svg",
                                                          "", html)
    written = write_documents(list(docs.values()), tmp_path)
    assert sorted(p.name for p in written) == sorted(
        [f"{k}.{s}" for k in KEYS for s in ("md", "html", "json")] + ["index.html"])
    data = json.loads((tmp_path / "risk-register.json").read_text())
    assert data["facts"]["Risks"] == str(len(docs["risk-register"].section("Register").table.rows))  # type: ignore[union-attr]


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium not installed (see .ci/run)")
def test_html_plan_renders_in_headless_chromium(docs: dict[str, Document], tmp_path: Path) -> None:
    write_documents(list(docs.values()), tmp_path)
    shot = Path(__file__).parents[1] / "artifacts" / "plan.png"
    shot.parent.mkdir(exist_ok=True)
    shot.unlink(missing_ok=True)
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--window-size=1280,1600", f"--screenshot={shot}", (tmp_path / "plan.html").as_uri()],
                   capture_output=True, timeout=120, check=False)
    assert shot.is_file() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 20_000  # a rendered page, not a blank one
