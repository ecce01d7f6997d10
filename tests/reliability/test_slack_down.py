"""Slack is down three ways (refuses connections, answers 500, accepts and never answers) during the migrate
flow, `dualpath run` and a break-glass `dualpath apply`: the run's outcome is the same, the time lost to
Slack is bounded by the notifier's timeout and breaker, and the report and log say what was not sent."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dualpath.cli import app
from dualpath.slack.client import Notifier
from tests.e2e.conftest import MIGRATIONS, pg_tenants, versions, write_config
from tests.reliability.flow_support import (
    BrokenSlack,
    PrefectServer,
    broken_slack,
    pointed_at,
    run_logs,
    shared_prefect,
    wait_until_stored,
)

__all__ = ["pg_tenants", "shared_prefect"]

TOKEN = "xoxb-slack-down-4242-tokenvalue"
# [slack] timeout_s. A hung Slack is waited out once per attempt: short, and the outcome is the same however
# long the wait really takes. Towards a Slack that refuses or answers 500 it is never reached: generous, so
# a stalled local server thread on a loaded machine cannot turn "500" into "timed out".
TIMEOUT_S = {"refuse": 30, "error": 30, "hang": 2}
FAILURES = 3  # the notifier's default pause_after_failures: then it stops trying
PAUSE_S = 86_400  # [slack] pause_s: once paused, not a single retry during the run, however slow it is
SLACK_ERRORS = {"refuse": "Connection refused", "error": "SlackApiError", "hang": "timed out"}


@pytest.fixture(scope="module")
def server(shared_prefect: PrefectServer) -> Iterator[PrefectServer]:
    with pointed_at(shared_prefect) as started:
        yield started


@dataclass
class SlackCalls:
    """What the notifier did, counted (not timed): each event it handled, each time it really sent to Slack
    (with the HTTP timeout of the client it sent with), and each send that failed."""

    events: list[str] = field(default_factory=list)
    attempts: list[tuple[str, float | None]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # what the notifier logged at WARNING and above


class _Kept(logging.Handler):
    """On the notifier's own logger: the Prefect flow's logging setup replaces the root's handlers
    (caplog's among them) but leaves this one alone."""

    def __init__(self, into: list[str]) -> None:
        super().__init__(logging.WARNING)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record.getMessage())


@pytest.fixture
def slack_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[SlackCalls]:
    calls = SlackCalls()
    deliver = Notifier._deliver

    def counted(self: Notifier, what: str, send: Callable[[], Any]) -> Any:
        client = getattr(self._transport, "client", None)

        def attempt() -> Any:  # called only when the breaker lets the message through
            calls.attempts.append((what, getattr(client, "timeout", None)))
            try:
                return send()
            except Exception:
                calls.failed.append(what)
                raise

        calls.events.append(what)
        return deliver(self, what, attempt)

    monkeypatch.setattr(Notifier, "_deliver", counted)
    monkeypatch.setenv("SLACK_DOWN_TOKEN", TOKEN)
    notify_log, kept = logging.getLogger("dualpath.notify"), _Kept(calls.warnings)
    level = notify_log.level
    notify_log.addHandler(kept)
    notify_log.setLevel(logging.WARNING)
    try:
        yield calls
    finally:
        notify_log.removeHandler(kept)
        notify_log.setLevel(level)


def slack_table(slack: BrokenSlack) -> str:
    return "\n".join(["[slack]", 'bot_token = "${SLACK_DOWN_TOKEN}"', f'api_base_url = "{slack.api_url}"',
                      'default_channel = "#db-migrations"', f"timeout_s = {TIMEOUT_S[slack.mode]}",
                      f"pause_s = {PAUSE_S}"])


def check_reported(text: str, mode: str, where: str) -> None:
    """The report (or log) names the Slack failure and its cause, and never the token."""
    assert "Slack notifications failed: 3 not sent" in text, f"{where}:\n{text[-2000:]}"
    assert SLACK_ERRORS[mode] in text, f"{where} does not name the cause ({SLACK_ERRORS[mode]}):\n{text[-2000:]}"
    assert "skipped while sending was paused" in text, where
    assert TOKEN not in text, f"the Slack token is in the {where}"


def check_bounded(calls: SlackCalls, mode: str) -> None:
    """Slack cost the run at most FAILURES sends, each cut off by the client's timeout (one quick retry of a
    refused connection aside): counted, so the bound holds by construction and no clock is asked."""
    assert len(calls.events) > FAILURES, "every event of the run goes through the notifier"
    assert [what for what, _ in calls.attempts] == calls.failed, calls  # every send failed
    assert len(calls.attempts) == FAILURES, calls  # then the breaker spared Slack (and the run) the rest
    assert {timeout for _, timeout in calls.attempts} == {TIMEOUT_S[mode]}, calls
    warnings = calls.warnings
    not_sent = [w for w in warnings if " not sent: " in w]
    assert len(not_sent) == FAILURES and all(SLACK_ERRORS[mode] in w for w in not_sent), warnings
    assert f"slack: {FAILURES} failures in a row; pausing notifications for {PAUSE_S}s" in warnings, warnings
    print(f"Slack: {len(calls.events)} events, {len(calls.attempts)} sent and failed, the rest skipped; "
          f"at most {FAILURES} x {TIMEOUT_S[mode]} s timeout")


@pytest.mark.parametrize("mode", ["refuse", "error"])
def test_the_migrate_flow_completes_when_slack_is_down(server: PrefectServer, pg_tenants: dict[str, str],
                                                       tmp_path: Path, slack_calls: SlackCalls, mode: str) -> None:
    from dualpath.flows.migrate import migrate

    tenants = {t: pg_tenants[t] for t in "ab"}  # canary a, then b
    with broken_slack(mode) as slack:
        config = write_config(tmp_path, tenants, extra=slack_table(slack))
        result = migrate(env="e2e", config=str(config), to_version="3", approve=True, report_dir=str(tmp_path))
    assert result["outcome"] == "completed"
    assert versions(tenants) == {"a": "3", "b": "3"}
    if mode == "error":
        assert slack.hits == FAILURES  # then the breaker spares Slack (and the run) the rest
    check_bounded(slack_calls, mode)
    check_reported(Path(result["report"]).read_text(), mode, "report")
    wait_until_stored(run_ids=[result["run_id"]])  # the run's closing log line, sent after the rest
    check_reported("\n".join(run_logs(result["run_id"])), mode, "Prefect log of the run")


def test_dualpath_run_completes_when_slack_hangs(server: PrefectServer, pg_tenants: dict[str, str], tmp_path: Path,
                                                 slack_calls: SlackCalls) -> None:
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
    check_bounded(slack_calls, "hang")
    [report] = tmp_path.glob("dualpath-report-e2e-*.md")
    check_reported(report.read_text(), "hang", "report")
    assert TOKEN not in result.output


@pytest.mark.parametrize("mode", ["refuse", "error", "hang"])
def test_break_glass_apply_goes_on_when_slack_is_down(tmp_path: Path, slack_calls: SlackCalls, mode: str) -> None:
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
    [warning] = slack_calls.warnings
    assert warning.startswith("slack: break-glass not sent: ") and SLACK_ERRORS[mode] in warning, warning
    assert TOKEN not in result.output + warning
    # one send, cut off by the client's timeout at the latest (counted, not timed)
    assert slack_calls.events == slack_calls.failed == ["break-glass"], slack_calls
    assert slack_calls.attempts == [("break-glass", TIMEOUT_S[mode])], slack_calls
    with open_engine(url).connect() as conn:
        rows = history.audit_rows(conn)
    assert [json.loads(str(r["detail"]))["reason"] for r in rows if r["action"] == "break-glass"] == \
        ["INC-9 Slack is down too"]
    assert [r["version"] for r in rows if r["action"] == "apply"] == ["1", "2", "3"]
