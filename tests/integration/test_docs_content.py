"""`dualpath docs` on the shop example against PostgreSQL with 300k customers: the documents say what a
stakeholder signs (the risks, the impact, the report, the FAQ), and Chromium shows each HTML page."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from dualpath.engines import open_engine
from tests.integration.helpers import run_cli

pytestmark = pytest.mark.integration

SHOP = Path(__file__).parents[2] / "examples" / "shop" / "migrations"
ARTIFACTS = Path(__file__).parents[1] / "artifacts"
CUSTOMERS = 300_000
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _project(root: Path, url: str) -> Path:
    shutil.copytree(SHOP, root / "migrations")
    (root / "dualpath.toml").write_text(f'''migrations = "migrations"
ticket_link = "https://tickets.example.com/browse/{{ticket}}"
escalation = ["on-call DBA (pager)", "head of platform"]
owners = {{ dba = "dba-team" }}

[safety]
lock_timeout_ms = 2000
statement_timeout_ms = 600000

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
        conn.exec_driver_sql(f"INSERT INTO customers (id, tenant_id, email, name) SELECT g, mod(g, 7), 'c' || g || '@x', "
                             f"'name ' || g FROM generate_series(1, {CUSTOMERS}) g")
        conn.exec_driver_sql("ANALYZE customers")
        conn.commit()


def _docs(config: Path, out: Path) -> dict[str, dict[str, object]]:
    result = run_cli("docs", "--config", str(config), "--url", "db", "--out", str(out))
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
    docs = _docs(config, out)
    register = _rows(docs["risk-register"], "Register")
    loss = next(r for r in register if r[1].startswith("Irreversible loss of customers.name"))
    assert f"({CUSTOMERS:,} rows)" in loss[1] and "verified backup of customers" in loss[1]
    assert loss[2] == "V7__drop_customer_name.sql:5" and loss[7] == "crm-team"
    assert any(r[1].startswith(f"Heavy data change on customers ({CUSTOMERS:,} rows)") and "batched" in r[5]
               for r in register)
    assert any(r[1].startswith("Code still using customers.name breaks") for r in register)
    assert not any(r[1].startswith("DP") for r in register)  # no finding is an entry: DP023, DP026 are info
    appendix = {r[0] for r in _rows(docs["risk-register"], "Appendix: lint findings that are not risks of their own")}
    assert {"DP023", "DP026"} <= appendix

    briefing = docs["briefing"]
    facts = dict(briefing["facts"])  # type: ignore[call-overload]
    assert facts["Environment"] == "prod" and facts["Window"] == "Sat 02:00-05:00 Europe/Berlin"
    assert facts["Tickets"].count("SHOP-130") == 2  # once, with its link
    impact = {r[0]: r[3] for r in _rows(briefing, "Expected user impact")}
    assert f"while {CUSTOMERS:,} rows are updated in batches of 500" in impact["6.1"]
    assert "Tue 20:00" not in json.dumps(briefing)  # staging is not this run
    assert _section(briefing, "Escalation path")["items"][:2] == ["1. on-call DBA (pager)", "2. head of platform"]
    missing = _section(briefing, "Missing")["items"]
    assert "missing: the service level the blocking time is judged against (`sla`)" in missing  # type: ignore[operator]
    assert dict(docs["report"]["facts"])["Runs"] == "1"  # type: ignore[call-overload]
    _no_absolute_paths(out, project)

    assert run_cli("apply", "--config", str(config), "--url", "db", "--to", "6").exit_code == 0
    after = project / "build" / "after"
    docs = _docs(config, after)
    changes = {r[1]: r for r in _rows(docs["report"], "Changes: actual against estimate")}
    assert changes["6"][2] == "6.1" and changes["6"][9] == f"{CUSTOMERS:,}"  # rows the batches changed
    assert changes["6"][5] != "—" and changes["6"][6].endswith(("ms", "s", "min"))
    follow = _section(docs["report"], "Follow-ups")["items"]
    assert any(i.startswith("contract step 7 drop customer name (V7__drop_customer_name.sql:1) is left for a later "
                            "release") for i in follow)  # type: ignore[union-attr]
    _no_absolute_paths(after, project)

    faq = (project / "docs" / "faq.md").read_text()
    assert faq.count("<!-- dualpath:run ") == 4  # two runs, begin and end each
    assert f"6 backfill customer display name: `UPDATE customers SET display_name = name WHERE display_name IS NULL` " \
           f"(V6__backfill_customer_display_name.sql:4), in batches ({CUSTOMERS:,} rows" in faq
    assert "7 drop customer name (pending) works on customers" in faq and str(project) not in faq
    _screenshots(after)


def _screenshots(out: Path) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does this)")
    ARTIFACTS.mkdir(exist_ok=True)
    for page in sorted(out.glob("*.html")):
        shot = ARTIFACTS / f"docs-{page.stem}.png"
        shot.unlink(missing_ok=True)
        subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        "--window-size=1280,2000", f"--screenshot={shot}", page.as_uri()],
                       capture_output=True, timeout=120, check=False)
        assert shot.is_file() and shot.stat().st_size > 20_000, f"no screenshot of {page.name}"
