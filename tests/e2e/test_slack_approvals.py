"""The Slack approval buttons against a real Prefect server: a paused migrate run posts Approve/Reject to
Slack (a local recorder), and signed button clicks sent to the receiver (a local endpoint) resume it as the
verified Slack user. Tampered, stale and unknown-user requests are refused and the run stays paused."""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from dualpath.slack.approvals import sign
from dualpath.slack.messages import APPROVE_ACTION
from tests.e2e.conftest import versions, write_config
from tests.e2e.test_migrate_flow import start_flow_process, wait_paused
from tests.slack_recorder import SlackRecorder, recording_slack

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # the shape of a Slack signing secret
ALICE = "U0ALICE"


def click(run_id: str, user_id: str, response_url: str, username: str = "someone") -> bytes:
    """The body Slack posts when ``user_id`` clicks Approve."""
    payload = {"type": "block_actions", "user": {"id": user_id, "username": username, "team_id": "T1"},
               "response_url": response_url,
               "actions": [{"action_id": APPROVE_ACTION, "value": run_id, "type": "button"}]}
    return urlencode({"payload": json.dumps(payload)}).encode()


def post(url: str, body: bytes, timestamp: int, secret: str = SECRET, signed: bytes | None = None) -> httpx.Response:
    """The request as Slack sends it; ``signed`` is the body the signature was made for (tampering)."""
    headers = {"X-Slack-Request-Timestamp": str(timestamp), "Content-Type": "application/x-www-form-urlencoded",
               "X-Slack-Signature": sign(secret, str(timestamp), body if signed is None else signed)}
    return httpx.post(url, content=body, headers=headers, timeout=30)


def state_of(run_id: Any) -> Any:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(run_id).state


def approval_button(slack: SlackRecorder) -> dict[str, Any]:
    """The Approve button of the approval request the run posted."""
    for body in slack.calls("chat.postMessage"):
        for block in body.get("blocks", []):
            for element in block.get("elements", []) if block.get("type") == "actions" else []:
                if element.get("action_id") == APPROVE_ACTION:
                    return dict(element)
    raise AssertionError("no Approve button was posted")


def test_signed_slack_click_resumes_the_run_as_the_verified_approver(prefect_api: str, pg_tenants: dict[str, str],
                                                                    tmp_path: Path) -> None:
    from dualpath.cli.commands.slack_approvals import build_receiver
    from dualpath.flows.slack_approvals import serving

    with recording_slack() as slack:
        extra = "\n".join(["[slack]", 'bot_token = "xoxb-e2e"', f'api_base_url = "{slack.api_url}"',
                           'default_channel = "#db-migrations"', "approval_buttons = true",
                           'signing_secret = "${E2E_SLACK_SIGNING_SECRET}"',
                           f'approver_ids = {{ {ALICE} = "alice" }}'])
        config = write_config(tmp_path, pg_tenants, extra=extra, approvers=["alice"])
        name = f"e2e-slack-approval-{uuid.uuid4().hex[:6]}"
        os.environ["E2E_SLACK_SIGNING_SECRET"] = SECRET
        process = start_flow_process(config, name, prefect_api)
        try:
            run = wait_paused(name)
            button = approval_button(slack)
            assert button["value"] == str(run.id) and button["style"] == "primary"
            reply_to = f"http://127.0.0.1:{slack.port}/actions/T1/1/reply"
            with serving(build_receiver(config)) as url:
                now = int(time.time())
                good = click(str(run.id), ALICE, reply_to, "alice.slack")

                tampered = post(url, click(str(run.id), "U0MALLORY", reply_to), now, signed=good)
                assert tampered.status_code == 401 and "signature does not match" in tampered.json()["text"]
                wrong_secret = post(url, good, now, secret="not-the-secret-at-all-0000000000")
                assert wrong_secret.status_code == 401
                stale = post(url, good, now - 301)
                assert stale.status_code == 401 and "more than 300 s" in stale.json()["text"]
                unknown = post(url, click(str(run.id), "U0EVE", reply_to, "eve"), now)
                assert unknown.status_code == 403
                assert "eve (U0EVE) is not an approver" in unknown.json()["text"]
                assert state_of(run.id).is_paused()  # nothing above resumed it
                replies = [r.body for r in slack.requests if r.path == "/actions/T1/1/reply"]
                assert len(replies) == 1 and "is not an approver" in replies[0]["text"]  # only Slack's own hear back

                approved = post(url, good, now)
                assert approved.status_code == 200, approved.text
                assert approved.json()["text"].startswith("approved by alice: flow run " + name)
                output, _ = process.communicate(timeout=180)
        finally:
            os.environ.pop("E2E_SLACK_SIGNING_SECRET", None)
            if process.poll() is None:
                process.kill()
        assert process.returncode == 0, output.decode()[-3000:]
        assert set(versions(pg_tenants).values()) == {"7"}
        decided = posted_texts(slack)
        assert "Approved by* alice" in decided and "identity verified by Slack's request signature" in decided
        assert SECRET not in slack.everything() and SECRET not in output.decode()


def posted_texts(slack: SlackRecorder) -> str:
    return json.dumps(slack.calls("chat.postMessage") + slack.calls("chat.update"))
