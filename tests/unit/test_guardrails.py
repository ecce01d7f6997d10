"""Protected environments: `dualpath apply/rollback` from a terminal is refused (exit 3) unless the target
holds an approval recorded by the migrate flow, or --break-glass "reason" is given (audited, announced)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from dualpath.cli import app
from tests.slack_recorder import SlackRecorder, recording_slack

SHOP = Path(__file__).resolve().parents[2] / "examples" / "shop" / "migrations"
TOKEN = "xoxb-guardrail-4242-secret"


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def project(tmp_path: Path, protected: bool = True, slack: SlackRecorder | None = None) -> tuple[Path, str]:
    db = tmp_path / "prod_north.db"
    url = f"sqlite:///{db}"
    lines = [f'migrations = "{SHOP}"', "", "[targets.north]", f'url = "{url}"', 'environment = "prod"', "",
             "[environments.prod]", f"protected = {str(protected).lower()}", "",
             "[[environments.prod.tenants]]", 'name = "north"', f'url = "{url}"', ""]
    if slack is not None:
        lines += ["[slack]", f'bot_token = "{TOKEN}"', f'api_base_url = "{slack.api_url}"',
                  'default_channel = "#db-ops"', 'oncall_mention = "<!subteam^SONCALL>"', "timeout_s = 2"]
    config = tmp_path / "dualpath.toml"
    config.write_text("\n".join(lines) + "\n")
    return config, url


def applied(config: Path, url: str) -> list[str]:
    result = cli("status", "--config", str(config), "--url", url, "--format", "json")
    return [s["version"] for s in json.loads(result.stdout) if s["state"] == "applied"]


def audit(url: str) -> list[dict[str, object]]:
    from dualpath import history
    from dualpath.engines import open_engine

    with open_engine(url).connect() as conn:
        return history.audit_rows(conn)


@pytest.mark.parametrize("how", ["target name", "tenant url"])
def test_apply_and_rollback_on_a_protected_environment_are_refused(tmp_path: Path, how: str) -> None:
    config, url = project(tmp_path)
    target = "north" if how == "target name" else url
    for args in (["apply"], ["rollback", "--steps", "1"]):
        result = cli(*args, "--config", str(config), "--url", target)
        assert result.exit_code == 3, result.output
        assert "environment 'prod' is protected" in result.output and "--break-glass" in result.output
    assert not (tmp_path / "prod_north.db").exists() or applied(config, url) == []


def test_dry_run_and_unprotected_environments_pass(tmp_path: Path) -> None:
    from dualpath.engines import open_engine

    config, url = project(tmp_path)
    open_engine(url).ensure_exists()
    assert cli("apply", "--config", str(config), "--url", "north", "--dry-run").exit_code == 0
    config, url = project(tmp_path, protected=False)
    assert cli("apply", "--config", str(config), "--url", "north", "--to", "2").exit_code == 0
    assert applied(config, url) == ["1", "2"]


def test_break_glass_is_audited_and_announced_in_slack(tmp_path: Path) -> None:
    with recording_slack() as slack:
        config, url = project(tmp_path, slack=slack)
        result = cli("apply", "--config", str(config), "--url", "north", "--to", "3",
                     "--break-glass", "INC-77 checkout down, hotfix schema")
        assert result.exit_code == 0, result.output
        assert "BREAK-GLASS" in result.output
        assert applied(config, url) == ["1", "2", "3"]
        [row] = [r for r in audit(url) if r["action"] == "break-glass"]
        detail = json.loads(str(row["detail"]))
        assert detail == {"environment": "prod", "command": "apply --to 3",
                          "reason": "INC-77 checkout down, hotfix schema"}
        applies = [r for r in audit(url) if r["action"] == "apply"] or [row]
        assert {r["run_id"] for r in applies} == {row["run_id"]}  # the same run did it
        [post] = slack.calls("chat.postMessage")
        assert post["channel"] == "#db-ops" and "thread_ts" not in post
        text = json.dumps(post["blocks"])
        assert "Break-glass on prod" in text and "<!subteam^SONCALL>" in text and "INC-77" in text
        assert TOKEN not in slack.everything()


def test_an_approval_recorded_by_the_flow_lets_the_terminal_run(tmp_path: Path) -> None:
    from dualpath import history
    from dualpath.engines import open_engine
    from dualpath.history import Actor

    config, url = project(tmp_path)
    engine = open_engine(url)
    engine.ensure_exists()
    with engine.connect() as conn, conn.begin():  # what the migrate flow writes when an approver says go
        history.ensure_tables(conn)
        history.audit(conn, Actor("flow-run-1234", "release-manager", "worker-1", None), "approval",
                      ticket="SHOP-131", detail={"approver": "release-manager", "ticket": "SHOP-131"})

    refused = cli("apply", "--config", str(config), "--url", "north", "--approval", "some-other-run")
    assert refused.exit_code == 3 and "recorded no approval" in refused.output
    result = cli("apply", "--config", str(config), "--url", "north", "--to", "2", "--approval", "flow-run-1234")
    assert result.exit_code == 0, result.output
    assert "approved by release-manager in flow run flow-run-1234" in result.output
    assert applied(config, url) == ["1", "2"]
