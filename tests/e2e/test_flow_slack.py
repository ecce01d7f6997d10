"""The migrate flow tells the whole story to Slack (a local recording server) and its report carries the
validation evidence: every expectation per tenant, observed against expected."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dualpath.errors import RunFailed
from tests.e2e.conftest import MIGRATIONS, versions, write_config
from tests.slack_recorder import SlackRecorder, recording_slack

PASSWORD = "Tenant-Pa55word-e2e"
TOKEN = "xoxb-e2e-4242-flowtokenvalue"


@pytest.fixture
def slack() -> Any:
    with recording_slack() as recorder:
        yield recorder


def with_password(tenants: dict[str, str]) -> dict[str, str]:
    """The same databases, reached with a password in the URL (the local server trusts loopback)."""
    return {name: url.replace("://postgres@", f"://postgres:{PASSWORD}@", 1) for name, url in tenants.items()}


def slack_table(slack: SlackRecorder) -> str:
    return "\n".join(["[slack]", 'bot_token = "${E2E_SLACK_TOKEN}"', f'api_base_url = "{slack.api_url}"',
                      'default_channel = "#db-migrations"', 'oncall_mention = "<!subteam^S0NCALL>"', "timeout_s = 5"])


def seed(tenants: dict[str, str]) -> None:
    """Every tenant at V4 with customers, orders and notes: the rest of the shop runs on real rows."""
    from sqlalchemy import create_engine, text

    from tests.integration.helpers import run_cli

    for name, url in tenants.items():
        result = run_cli("apply", "--url", url, "--migrations", str(MIGRATIONS), "--to", "4")
        assert result.exit_code == 0, result.output
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO customers (id, tenant_id, email, name) VALUES "
                              "(1, 1, 'ann@example.com', 'Ann'), (2, 1, 'bo@example.com', 'Bo'), "
                              "(3, 1, 'cy@example.com', 'Cy')"))
            conn.execute(text("INSERT INTO orders (id, tenant_id, customer_id, total_cents) VALUES "
                              "(1, 1, 1, 1200), (2, 1, 1, 300), (3, 1, 2, 999), (4, 1, 3, 0), (5, 1, 3, 50)"))
            conn.execute(text(f"INSERT INTO order_notes (id, order_id, body) VALUES (1, 1, 'gift wrap {name}')"))
        engine.dispose()


def posted_texts(body: Any) -> str:
    """Every text of a message (its fallback, headers, sections, fields, buttons), one per line."""
    if isinstance(body, dict):
        return "\n".join(posted_texts(v) if k != "text" or not isinstance(v, str) else v for k, v in body.items())
    if isinstance(body, list):
        return "\n".join(posted_texts(v) for v in body)
    return ""


def test_a_run_posts_the_full_story_and_the_report_embeds_the_validation(
        prefect_api: str, pg_tenants: dict[str, str], tmp_path: Path, slack: SlackRecorder,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from dualpath.flows.local import run_flow

    monkeypatch.setenv("E2E_SLACK_TOKEN", TOKEN)
    tenants = with_password(pg_tenants)
    seed(tenants)
    config = write_config(tmp_path, tenants, extra=slack_table(slack))
    asked: list[str] = []

    backups_at_the_pause: list[list[Path]] = []

    def approve(plan: str) -> dict[str, Any]:
        asked.append(plan)
        backups_at_the_pause.append([p for p in (tmp_path / "backups").rglob("*") if p.is_file()])
        return {"decision": "approve", "approver": "release-manager", "ticket": "SHOP-131", "comment": "go"}

    result = run_flow({"env": "e2e", "config": str(config), "report_dir": str(tmp_path)}, approve, lambda _: None)

    assert result["outcome"] == "completed" and asked
    # backups come after the approval (the approver saw the plan first), right before the first wave
    assert backups_at_the_pause == [[]] and len(list((tmp_path / "backups").rglob("manifest.json"))) == 4
    assert set(versions(tenants).values()) == {"7"}
    started, approval, decided, *waves, completion = slack.calls("chat.postMessage")
    status_ts = "1700000000.000001"
    assert "thread_ts" not in started and started["channel"] == "#db-migrations"
    assert "Migration started" in started["blocks"][0]["text"]["text"]
    # approval needed: threaded, broadcast, with a button to the paused run in the Prefect UI
    assert approval["thread_ts"] == status_ts and approval["reply_broadcast"] is True
    assert "Approval needed" in approval["blocks"][0]["text"]["text"]
    [button] = [e for b in approval["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert button["url"] == result["ui"] and button["url"].startswith(prefect_api.removesuffix("/api"))
    # the decision is threaded under the ask: who approved, the ticket and the comment
    assert decided["thread_ts"] == status_ts and "Approved" in decided["blocks"][0]["text"]["text"]
    assert "*Approver*\nrelease-manager" in posted_texts(decided) and "*Comment*\ngo" in posted_texts(decided)
    assert "*Ticket*\nSHOP-131" in posted_texts(decided)
    # one threaded reply per wave: canary a, then b+c, then d
    assert [w["thread_ts"] for w in waves] == [status_ts] * 3
    assert ["wave 1/3" in posted_texts(waves[0]), "wave 2/3 · 3/4 tenants" in posted_texts(waves[1]),
            "wave 3/3 · 4/4 tenants" in posted_texts(waves[2])] == [True, True, True]
    assert completion["thread_ts"] == status_ts and "Migration completed" in posted_texts(completion)
    passed = [f["text"] for b in completion["blocks"] if b["type"] == "section" for f in b.get("fields", [])
              if f["text"].startswith("*Validations*")]
    assert passed and passed[0].split("\n")[1].endswith("passed") and not passed[0].startswith("*Validations*\n0/")
    assert "*Approved by*\nrelease-manager" in posted_texts(completion) and "*Comment*\ngo" in posted_texts(completion)
    # the status message is updated in place, never re-posted, and shows who approved from then on
    updates = slack.calls("chat.update")
    assert {u["ts"] for u in updates} == {status_ts} and len(updates) == 7
    states = [u["blocks"][1]["text"]["text"] for u in updates]
    assert "pre-flight done" in states[0] and "awaiting approval" in states[1]
    assert "approved" in states[2] and "by release-manager" in states[2]
    assert "wave 1/3" in states[3] and "completed" in states[-1]
    assert all("*Approved by*\nrelease-manager" in posted_texts(u) for u in updates[2:])
    assert not any("*Approved by*" in posted_texts(u) for u in updates[:2])
    # secrets: neither the tenant password nor the bot token in any request; the token only authenticates
    assert PASSWORD not in slack.everything() and TOKEN not in slack.everything()
    assert {r.headers.get("Authorization") for r in slack.requests} == {f"Bearer {TOKEN}"}
    # the report embeds each tenant's expectations, observed vs expected
    report = Path(result["report"]).read_text()
    assert "## Validation" in report and "### Validation passed: a" in report and "### Validation passed: d" in report
    assert "| ✅ | `expect_table_row_count_to_equal` | orders | 5 | 5 |" in report
    assert "| ✅ | `unexpected_rows_expectation` | orders.customer_id | 0 | no orphan rows |" in report
    assert "`dualpath_column_checksum_unchanged` | customers.email" in report
    assert "**Approval:** approved" in report and "- Approver: release-manager" in report
    assert "- Ticket: SHOP-131" in report and "- Comment: go" in report
    assert PASSWORD not in report
    # ... and so does the Prefect markdown artifact
    assert "| ✅ | `expect_table_row_count_to_equal` | orders | 5 | 5 |" in report_artifact(result["run_id"])


def report_artifact(run_id: str) -> str:
    from uuid import UUID

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterType

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(
            flow_run_id=ArtifactFilterFlowRunId(any_=[UUID(run_id)]), type=ArtifactFilterType(any_=["markdown"])))
    return "\n".join(str(a.data) for a in artifacts)


def test_a_failed_run_posts_the_failure_and_the_rollback_with_the_oncall_mention(
        prefect_api: str, pg_tenants: dict[str, str], tmp_path: Path, slack: SlackRecorder,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import create_engine, text

    from dualpath.flows.migrate import migrate

    monkeypatch.setenv("E2E_SLACK_TOKEN", TOKEN)
    tenants = with_password(pg_tenants)
    engine = create_engine(tenants["c"])  # tenant c (wave 2) already has the table V4 creates: V4 fails there
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE order_notes (id integer)"))
    engine.dispose()
    config = write_config(tmp_path, tenants, extra=slack_table(slack))

    with pytest.raises(RunFailed):
        migrate(env="e2e", config=str(config), to_version="6", approve=True, report_dir=str(tmp_path))

    posts = slack.calls("chat.postMessage")
    [failure] = [p for p in posts if "Migration failed" in p["blocks"][0]["text"]["text"]]
    [rollback] = [p for p in posts if "Rolled back" in p["blocks"][0]["text"]["text"]]
    assert failure["reply_broadcast"] is True and rollback["reply_broadcast"] is True
    assert failure["blocks"][1]["text"]["text"].startswith("<!subteam^S0NCALL> *What failed:* wave 2 failed")
    assert "*Tenant*\nc" in posted_texts(failure) and "*Step*\napply" in posted_texts(failure)
    assert "V4__create_order_notes.sql" in posted_texts(failure)  # where: file:line
    assert "a: " in posted_texts(rollback) and "b: " in posted_texts(rollback)  # what was undone, per tenant
    assert "rolled back" in slack.calls("chat.update")[-1]["blocks"][1]["text"]["text"]
    assert PASSWORD not in slack.everything() and TOKEN not in slack.everything()
