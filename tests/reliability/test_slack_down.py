"""Slack is down three ways (refuses connections, answers 500, accepts and never answers) during the migrate
flow, `dualpath run` and a break-glass `dualpath apply`: the run's outcome is the same, the time lost to
Slack is bounded by the notifier's timeout and breaker, and the report and log say what was not sent."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dualpath.cli import app
from dualpath.notify import Notifier
from tests.e2e.conftest import MIGRATIONS, pg_tenants, versions, write_config
from tests.reliability.flow_support import (
    BrokenSlack,
    PrefectServer,
    broken_slack,
    pointed_at,
    run_logs,
    shared_prefect,
)

__all__ = ["pg_tenants", "shared_prefect"]

TOKEN = "xoxb-slack-down-4242-tokenvalue"
TIMEOUT_S = 2  # [slack] timeout_s
FAILURES = 3  # the notifier's default pause_after_failures: then it stops trying for a while
# what Slack may cost a run at most: FAILURES attempts, each one timeout plus one quick connection retry
BUDGET_S = FAILURES * (TIMEOUT_S + 0.5)
SLACK_ERRORS = {"refuse": "Connection refused", "error": "SlackApiError", "hang": "timed out"}


@pytest.fixture(scope="module")
def server(shared_prefect: PrefectServer) -> Iterator[PrefectServer]:
    with pointed_at(shared_prefect) as started:
        yield started


@pytest.fixture
def slack_time(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Seconds spent in each attempt to deliver a Slack message (breaker checks included)."""
    spent: list[float] = []
    deliver = Notifier._deliver

    def timed(self: Notifier, what: str, send: Callable[[], Any]) -> Any:
        began = time.monotonic()
        try:
            return deliver(self, what, send)
        finally:
            spent.append(time.monotonic() - began)

    monkeypatch.setattr(Notifier, "_deliver", timed)
    monkeypatch.setenv("SLACK_DOWN_TOKEN", TOKEN)
    return spent


def slack_table(slack: BrokenSlack) -> str:
    return "\n".join(["[slack]", 'bot_token = "${SLACK_DOWN_TOKEN}"', f'api_base_url = "{slack.api_url}"',
                      'default_channel = "#db-migrations"', f"timeout_s = {TIMEOUT_S}"])


def check_reported(text: str, mode: str, where: str) -> None:
    """The report (or log) names the Slack failure and its cause, and never the token."""
    assert "Slack notifications failed: 3 not sent" in text, f"{where}:\n{text[-2000:]}"
    assert SLACK_ERRORS[mode] in text, f"{where} does not name the cause ({SLACK_ERRORS[mode]}):\n{text[-2000:]}"
    assert "skipped while sending was paused" in text, where
    assert TOKEN not in text, f"the Slack token is in the {where}"


def check_bounded(spent: list[float]) -> None:
    assert len(spent) > FAILURES, "every event of the run goes through the notifier"
    assert sum(spent) < BUDGET_S + 10, f"Slack cost the run {sum(spent):.1f} s (budget {BUDGET_S:.1f} s): {spent}"


@pytest.mark.parametrize("mode", ["refuse", "error"])
def test_the_migrate_flow_completes_when_slack_is_down(server: PrefectServer, pg_tenants: dict[str, str],
                                                       tmp_path: Path, slack_time: list[float], mode: str) -> None:
    from flows.local import drain_prefect_workers
    from flows.migrate import migrate

    tenants = {t: pg_tenants[t] for t in "ab"}  # canary a, then b
    with broken_slack(mode) as slack:
        config = write_config(tmp_path, tenants, extra=slack_table(slack))
        result = migrate(env="e2e", config=str(config), to_version="3", approve=True, report_dir=str(tmp_path))
    assert result["outcome"] == "completed"
    assert versions(tenants) == {"a": "3", "b": "3"}
    if mode == "error":
        assert slack.hits == FAILURES  # then the breaker spares Slack (and the run) the rest
    check_bounded(slack_time)
    check_reported(Path(result["report"]).read_text(), mode, "report")
    drain_prefect_workers()
    check_reported("\n".join(run_logs(result["run_id"])), mode, "Prefect log of the run")


def test_dualpath_run_completes_when_slack_hangs(server: PrefectServer, pg_tenants: dict[str, str], tmp_path: Path,
                                                 slack_time: list[float]) -> None:
    tenants = {t: pg_tenants[t] for t in "ab"}
    with broken_slack("hang") as slack:
        config = write_config(tmp_path, tenants, extra=slack_table(slack))
        result = CliRunner().invoke(app, ["run", "--env", "e2e", "--config", str(config), "--to", "3", "--approve",
                                          "--report-dir", str(tmp_path)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "completed: report " in result.output, result.output
    # the run reported to this test's server (not to a throwaway one Prefect starts when it sees no API URL)
    assert f"{server.url.removesuffix('/api')}/runs/flow-run/" in result.output, result.output
    assert versions(tenants) == {"a": "3", "b": "3"}
    assert slack.hits == FAILURES
    check_bounded(slack_time)
    [report] = tmp_path.glob("dualpath-report-e2e-*.md")
    check_reported(report.read_text(), "hang", "report")
    assert TOKEN not in result.output


@pytest.mark.parametrize("mode", ["refuse", "error", "hang"])
def test_break_glass_apply_goes_on_when_slack_is_down(tmp_path: Path, slack_time: list[float], mode: str,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    from dualpath import history
    from dualpath.engines import open_engine

    url = f"sqlite:///{tmp_path / 'prod_north.db'}"
    with broken_slack(mode) as slack:
        config = tmp_path / "dualpath.toml"
        config.write_text("\n".join([
            f'migrations = "{MIGRATIONS}"', "", "[environments.prod]", "protected = true", "",
            "[[environments.prod.tenants]]", 'name = "north"', f'url = "{url}"', "", slack_table(slack)]) + "\n")
        result = CliRunner().invoke(app, ["apply", "--config", str(config), "--url", url, "--to", "3",
                                          "--break-glass", "INC-9 Slack is down too"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "break-glass not announced in Slack" in result.output
    # the warning "above" (on stderr, through logging's last-resort handler when nothing is configured)
    [warning] = [r.getMessage() for r in caplog.records if r.name == "dualpath.notify"]
    assert warning.startswith("slack: break-glass not sent: ") and SLACK_ERRORS[mode] in warning, warning
    assert TOKEN not in result.output + warning
    assert len(slack_time) == 1 and slack_time[0] < TIMEOUT_S + 0.5 + 5, slack_time
    with open_engine(url).connect() as conn:
        rows = history.audit_rows(conn)
    assert [json.loads(str(r["detail"]))["reason"] for r in rows if r["action"] == "break-glass"] == \
        ["INC-9 Slack is down too"]
    assert [r["version"] for r in rows if r["action"] == "apply"] == ["1", "2", "3"]
