"""`dualpath docs` on the shop example against PostgreSQL with 300k customers: the documents say what a
stakeholder signs (the risks, the impact, the report, the FAQ), and Chromium shows each HTML page."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from dualpath.engines import open_engine
from tests.integration.helpers import run_cli

pytestmark = pytest.mark.integration

SHOP = Path(__file__).parents[2] / "examples" / "shop" / "migrations"
ARTIFACTS = Path(__file__).parents[1] / "artifacts"
CUSTOMERS = 300_000
CHROMIUM = "/usr/bin/chromium"


def _project(root: Path, url: str) -> Path:
    shutil.copytree(SHOP, root / "migrations")
    (root / "dualpath.toml").write_text(f'''migrations = "migrations"
ticket_link = "https://tickets.example.com/browse/{{ticket}}"
escalation = ["on-call DBA (pager)", "head of platform"]
owners = {{ dba = "dba-team" }}

[safety]
lock_timeout_ms = 300
statement_timeout_ms = 600000
lock_retries = 1
retry_backoff_ms = 50

[targets.db]
url = "{url.replace("postgresql://", "postgresql+psycopg://")}"
environment = "prod"

[environments.staging]
tenant_url_template = "postgresql://app@staging/{{tenant}}"
tenant_names = ["north"]
window = "Tue 20:00-22:00 Europe/Berlin"

[environments.prod]
tenant_url_template = "postgresql://app@prod/shop_{{tenant}}"
tenant_names = ["north", "south", "east"]
canary = ["north"]
wave_size = 2
window = "Sat 02:00-05:00 Europe/Berlin"
approval = "always"
approvers = ["alice", "bob"]

[[environments.prod.gates]]
name = "replication lag"
kind = "replication_lag"
max = 10

[slack]
oncall_mention = "<!subteam^S0DBA>"
channels = {{ prod = "#shop-releases" }}

[docs.owners]
tables = {{ customers = "crm-team" }}
''')
    return root / "dualpath.toml"


def _fill(url: str) -> None:
    engine = open_engine(url)
    with engine.connect() as conn:
        conn.exec_driver_sql("INSERT INTO customers (id, tenant_id, email, name) SELECT g, mod(g, 7), "
                             f"'c' || g || '@x', 'name ' || g FROM generate_series(1, {CUSTOMERS}) g")
        conn.exec_driver_sql("ANALYZE customers")
        conn.commit()


def _docs(config: Path, out: Path, *extra: str) -> dict[str, dict[str, object]]:
    result = run_cli("docs", "--config", str(config), "--url", "db", "--out", str(out), *extra)
    assert result.exit_code == 0, result.output
    return {p.stem: json.loads(p.read_text()) for p in out.glob("*.json")}


def _section(doc: dict[str, object], heading: str) -> dict[str, object]:
    return next(s for s in doc["sections"] if s["heading"] == heading)  # type: ignore[attr-defined,index]


def _rows(doc: dict[str, object], heading: str) -> list[list[str]]:
    return _section(doc, heading)["table"]["rows"]  # type: ignore[index,return-value]


def _no_absolute_paths(out: Path, project: Path) -> None:
    for path in out.iterdir():
        text = path.read_text()
        for bad in (str(project), "/tmp/", "+psycopg"):
            assert bad not in text, f"{path.name} shows {bad}"


def test_documents_on_a_real_target(pg_url: str, tmp_path: Path) -> None:
    project = tmp_path / "shop"
    project.mkdir()
    config = _project(project, pg_url)
    assert run_cli("apply", "--config", str(config), "--url", "db", "--to", "4").exit_code == 0
    _fill(pg_url)

    out = project / "build" / "before"
    docs = _docs(config, out, "--rehearse")
    register = _rows(docs["risk-register"], "Register")
    titles = {r[1]: r for r in register}
    loss = titles[f"Irreversible loss of customers.name ({CUSTOMERS:,} rows)"]
    assert loss[2:] == ["data loss", "certain once the step runs", "high", "crm-team"]
    entry = _section(docs["risk-register"], f"{loss[0]} · {loss[1]}")
    assert "verified backup of customers the run takes at .dualpath/backups" in entry["text"][0]  # type: ignore[index]
    assert entry["table"]["rows"][0][0] == "V7__drop_customer_name.sql:5"  # type: ignore[index]
    heavy = _section(docs["risk-register"], next(f"{r[0]} · {r[1]}" for r in register
                                                 if r[1] == f"Heavy data change on customers ({CUSTOMERS:,} rows)"))
    assert heavy["notes"][0].startswith("Mitigation: batched: chunks of 500 rows")  # type: ignore[index]
    assert "replica lag above 1.0 s" in heavy["notes"][1]  # type: ignore[index]
    assert "Code still using customers.name breaks" in titles
    lock = _section(docs["risk-register"], next(f"{r[0]} · {r[1]}" for r in register if r[2] == "blocking lock"))
    assert "measured 5.1: ACCESS EXCLUSIVE on customers, 7.1: ACCESS EXCLUSIVE on customers" in lock["text"][0]  # type: ignore[index]
    assert not any(r[1].startswith("DP") or r[2] == "finding" for r in register)  # DP023, DP026 are info
    appendix = {r[0] for r in _rows(docs["risk-register"], "Appendix: lint findings that are not risks of their own")}
    assert {"DP023", "DP026"} <= appendix

    briefing = docs["briefing"]
    facts = dict(briefing["facts"])  # type: ignore[call-overload]
    assert facts["Environment"] == "prod" and facts["Window"] == "Sat 02:00-05:00 Europe/Berlin"
    assert facts["Tickets"] == "SHOP-130, SHOP-131"  # once each
    impact = {r[0]: r[2] for r in _rows(briefing, "Expected user impact")}
    assert f"while {CUSTOMERS:,} rows are updated in batches of 500" in impact["6.1"]
    assert "Tue 20:00" not in json.dumps(briefing)  # staging is not this run
    assert _section(briefing, "Escalation path")["items"][:2] == ["1. on-call DBA (pager)", "2. head of platform"]
    missing = _section(briefing, "Missing")["items"]
    assert "missing: the service level the blocking time is judged against (`sla`)" in missing  # type: ignore[operator]
    assert dict(docs["report"]["facts"])["Runs"] == "1"  # type: ignore[call-overload]
    _no_absolute_paths(out, project)

    # a session holds customers: 5 waits past the lock timeout, is retried once, fails; then it goes through
    holder = open_engine(pg_url)
    with holder.connect() as conn:
        conn.exec_driver_sql("LOCK TABLE customers IN ACCESS SHARE MODE")
        assert run_cli("apply", "--config", str(config), "--url", "db", "--to", "6").exit_code == 4
        conn.rollback()
    assert run_cli("apply", "--config", str(config), "--url", "db", "--to", "6").exit_code == 0
    after = project / "build" / "after"
    docs = _docs(config, after)
    rows = _rows(docs["report"], "Changes: actual against estimate")
    failed = next(r for r in rows if r[1] == "5" and r[3] == "error")
    assert failed[8] == "1 (V5__add_customer_display_name.sql:3)"  # the lock wait, where it happened
    changes = {r[1]: r for r in rows if r[3] == "ok"}
    assert changes["6"][4] == "6.1" and changes["6"][9] == f"{CUSTOMERS:,}"  # rows the batches changed
    assert changes["6"][5] == "3.0 s"  # estimated on the 300k rows it found, not as a new table
    assert changes["6"][6].endswith(("ms", "s", "min"))
    follow = _section(docs["report"], "Follow-ups")["items"]
    assert any(i.startswith("Contract step 7 drop customer name (V7__drop_customer_name.sql:1) is left for a later "
                            "release") for i in follow)  # type: ignore[union-attr]
    _no_absolute_paths(after, project)

    faq = (project / "docs" / "faq.md").read_text()
    assert faq.count("<!-- dualpath:run ") == 6  # three runs, begin and end each
    assert "- lock-timeout at V5__add_customer_display_name.sql:3 (change 5), retry 1" in faq
    assert "- 5 failed at V5__add_customer_display_name.sql:3: " in faq
    assert f"6 backfill customer display name: `UPDATE customers SET display_name = name WHERE display_name IS NULL` " \
           f"(V6__backfill_customer_display_name.sql:4), in batches ({CUSTOMERS:,} rows" in faq
    assert "7 drop customer name (pending) works on customers" in faq and str(project) not in faq
    # a backup taken for 7 ahead of the window is the one the register names
    made = run_cli("backup", "create", "--config", str(config), "--url", "db", "--tables", "customers",
                   "--change", "7", "--to", (project / ".dualpath" / "backups").as_uri())
    assert made.exit_code == 0, made.output
    backup_id = made.output.split()[1].rstrip(":")
    named = project / "build" / "named"
    entry = next(s for s in _docs(config, named)["risk-register"]["sections"]  # type: ignore[attr-defined]
                 if s["heading"].startswith("R1 · Irreversible loss of customers.name"))
    assert entry["text"][0].count(f"Backup {backup_id} (taken ") == 1 and "customers) covers it" in entry["text"][0]
    _no_absolute_paths(named, project)

    # the release as signed before the window, the report as it reads after the run
    _screenshots([p for p in sorted(out.glob("*.html")) if p.stem != "report"] + [after / "report.html"])


def _screenshots(pages: list[Path]) -> None:
    """Each page whole, as a stakeholder scrolls it, into tests/artifacts/docs-<name>.png."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does this)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        view = browser.new_page(viewport={"width": 1280, "height": 900})
        for page in pages:
            shot = ARTIFACTS / f"docs-{page.stem}.png"
            shot.unlink(missing_ok=True)
            view.goto(page.as_uri())
            view.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 20_000, f"no screenshot of {page.name}"
        browser.close()


def test_an_unknown_environment_is_named_with_the_known_ones(pg_url: str, tmp_path: Path) -> None:
    config = _project(tmp_path, pg_url)
    result = run_cli("docs", "--config", str(config), "--url", "db", "--env", "prod-red", "--out", str(tmp_path / "o"))
    assert result.exit_code == 2
    assert "unknown environment 'prod-red'" in result.output and "known environments: prod, staging" in result.output
    assert not (tmp_path / "o").exists() and not (tmp_path / "docs").exists()
