"""Slack's request signature, the button click and the approver check (dualpath.slack.approvals), and the
buttons on the approval request (dualpath.slack.messages)."""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import urlencode

import pytest

from dualpath.slack.approvals import Interaction, Refused, approver_for, parse, sign, verified_comment, verify
from dualpath.slack.messages import APPROVE_ACTION, REJECT_ACTION, Approval, RunInfo, build_approval

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
NOW = 1_700_000_000


def body(action: str = APPROVE_ACTION, user: dict[str, str] | None = None, value: str = "run-1",
         kind: str = "block_actions") -> bytes:
    payload = {"type": kind, "user": user if user is not None else {"id": "U1", "username": "alice"},
               "response_url": "https://hooks.slack.test/actions/1",
               "actions": [{"action_id": action, "value": value}]}
    return urlencode({"payload": json.dumps(payload)}).encode()


def test_the_signature_is_slacks_v0_hmac() -> None:
    expected = hmac.new(SECRET.encode(), b"v0:123:a=b", hashlib.sha256).hexdigest()
    assert sign(SECRET, "123", b"a=b") == f"v0={expected}"


def test_a_signed_fresh_request_passes() -> None:
    verify(SECRET, str(NOW), sign(SECRET, str(NOW), body()), body(), now=NOW + 299)


@pytest.mark.parametrize(("timestamp", "signature", "data", "reason"), [
    (str(NOW), sign(SECRET, str(NOW), body()), body(user={"id": "U666"}), "does not match"),  # tampered body
    (str(NOW), sign("another-secret-000000000000000000", str(NOW), body()), body(), "does not match"),
    (str(NOW - 301), sign(SECRET, str(NOW - 301), body()), body(), "more than 300 s"),  # a replay
    (str(NOW + 400), sign(SECRET, str(NOW + 400), body()), body(), "more than 300 s"),  # a clock far ahead
    (str(NOW + 1), sign(SECRET, str(NOW), body()), body(), "does not match"),  # timestamp swapped after signing
    (None, sign(SECRET, str(NOW), body()), body(), "missing"),
    (str(NOW), None, body(), "missing"),
    ("soon", "v0=00", body(), "not a number"),
])
def test_a_request_slack_did_not_sign_now_is_refused(timestamp: str | None, signature: str | None, data: bytes,
                                                    reason: str) -> None:
    with pytest.raises(Refused, match=reason) as refused:
        verify(SECRET, timestamp, signature, data, now=NOW)
    assert refused.value.status == 401


def test_a_click_names_decision_run_and_user() -> None:
    assert parse(body()) == Interaction("approve", "run-1", "U1", "alice", "https://hooks.slack.test/actions/1")
    assert parse(body(REJECT_ACTION)).decision == "reject"


@pytest.mark.parametrize(("data", "reason"), [
    (b"payload=not-json", "not a Slack interaction"),
    (b"text=hello", "not a Slack interaction"),
    (body(kind="view_submission"), "not a block_actions"),
    (body(action="some_other_button"), "no approval button"),
    (body(user={}), "names no Slack user"),
    (body(value=""), "no flow run id"),
])
def test_anything_but_an_approval_click_is_refused(data: bytes, reason: str) -> None:
    with pytest.raises(Refused, match=reason) as refused:
        parse(data)
    assert refused.value.status == 400


def test_the_slack_user_is_checked_against_the_approvers() -> None:
    click = Interaction("approve", "run-1", "U1", "alice.s")
    assert approver_for(click, ["alice"], {"U1": "alice"}) == "alice"  # mapped by Slack user id
    assert approver_for(click, ["U1"], {}) == "U1"  # listed by user id
    assert approver_for(click, ["alice.s"], {}) == "alice.s"  # listed by Slack username
    assert approver_for(click, [], {}) == "U1"  # no list: anyone, still named by a verified id
    with pytest.raises(Refused, match=r"alice.s \(U1\) is not an approver .*approvers: bob") as refused:
        approver_for(click, ["bob"], {"U1": "alice"})
    assert refused.value.status == 403


def test_the_decision_says_where_it_came_from() -> None:
    assert verified_comment(Interaction("reject", "r", "U1", "alice")) == (
        "rejected in Slack by alice (Slack user U1, identity verified by Slack's request signature)")


def test_the_approval_request_carries_buttons_with_the_run_id_only_when_asked() -> None:
    run = RunInfo(run_id="0b6f-run", env="prod", target="3 tenant(s)")
    plain = json.dumps(build_approval(run, Approval(what="7 change(s)", why="irreversible")).blocks)
    assert APPROVE_ACTION not in plain
    blocks = build_approval(run, Approval(what="7 change(s)", why="irreversible"), buttons=True).blocks
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"] if "value" in e]
    assert [(b["action_id"], b["value"], b["style"]) for b in buttons] == [
        (APPROVE_ACTION, "0b6f-run", "primary"), (REJECT_ACTION, "0b6f-run", "danger")]
    assert all("url" not in b and b["confirm"]["title"]["text"] for b in buttons)
    assert "decides as your Slack user" in json.dumps(blocks)
