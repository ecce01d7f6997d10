"""The Slack approval receiver on a local port, before it reaches Prefect: what it refuses, what Slack hears,
what its log says (never the signing secret), and the command's error without a secret."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from dualpath.slack.approvals import sign
from dualpath.slack.messages import APPROVE_ACTION
from tests.integration.helpers import run_cli
from tests.slack_recorder import recording_slack

SECRET = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


def config(tmp_path: Path, slack: str = "") -> Path:
    path = tmp_path / "dualpath.toml"
    path.write_text("\n".join(['migrations = "migrations"', "", "[environments.prod]", 'approvers = ["alice"]',
                               "", slack]))
    return path


def click(user: str, run_id: str, response_url: str) -> bytes:
    payload = {"type": "block_actions", "user": {"id": user, "username": user.lower()},
               "response_url": response_url, "actions": [{"action_id": APPROVE_ACTION, "value": run_id}]}
    return urlencode({"payload": json.dumps(payload)}).encode()


def send(url: str, body: bytes, timestamp: int, signed: bytes | None = None) -> httpx.Response:
    return httpx.post(url, content=body, timeout=10, headers={
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": sign(SECRET, str(timestamp), body if signed is None else signed)})


def test_refusals_are_answered_and_logged_without_the_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    from dualpath.cli.commands.slack_approvals import build_receiver
    from dualpath.flows.slack_approvals import serving

    monkeypatch.setenv("SLACK_SIGNING_SECRET", SECRET)
    caplog.set_level(logging.DEBUG, logger="dualpath.slack_approvals")
    with recording_slack() as slack, serving(build_receiver(config(tmp_path))) as url:
        reply = f"http://127.0.0.1:{slack.port}/actions/T1/2/r"
        now = int(time.time())
        good = click("U0ALICE", "not-a-uuid", reply)
        tampered = send(url, click("U0MALLORY", "not-a-uuid", reply), now, signed=good)
        stale = send(url, good, now - 600)
        unsigned = httpx.post(url, content=good, timeout=10)
        bad_run = send(url, good, now)  # signed and fresh, but the button names no flow run
        health = httpx.get(url.replace("/slack/actions", "/health"), timeout=10)
    assert (tampered.status_code, stale.status_code, unsigned.status_code) == (401, 401, 401)
    assert "missing X-Slack" in unsigned.json()["text"]
    assert bad_run.status_code == 400 and "'not-a-uuid' is not a flow run id" in bad_run.json()["text"]
    assert health.status_code == 200
    # only the signed request hears back in Slack; unsigned ones name a response_url nobody vouched for
    assert [r.body["text"] for r in slack.requests] == ["'not-a-uuid' is not a flow run id"]
    assert slack.requests[0].body["response_type"] == "ephemeral"
    log = caplog.text
    assert "signature does not match" in log and "more than 300 s" in log
    assert SECRET not in log and SECRET not in repr(build_receiver(config(tmp_path)))


def test_the_secret_can_come_from_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dualpath.cli.commands.slack_approvals import build_receiver

    monkeypatch.setenv("MY_SIGNING", SECRET)
    monkeypatch.delenv("SLACK_SIGNING_SECRET", raising=False)
    receiver = build_receiver(config(tmp_path, '[slack]\nsigning_secret = "${MY_SIGNING}"\n'
                                                'approver_ids = { U0ALICE = "alice" }'))
    assert receiver.signing_secret == SECRET and receiver.approver_ids == {"U0ALICE": "alice"}
    assert list(receiver.approvers("prod")) == ["alice"]


def test_serve_without_a_signing_secret_says_what_to_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SLACK_SIGNING_SECRET", raising=False)
    result = run_cli("slack-approvals", "serve", "--config", str(config(tmp_path)), "--port", "0")
    assert result.exit_code == 2
    assert "no Slack signing secret" in result.output and "SLACK_SIGNING_SECRET" in result.output
