"""An approval with a verified identity: the Approve/Reject buttons of the Slack approval request.

Prefect's open-source server has no user accounts, so the approver typed into its form is only a name.
A click on a Slack button arrives as an interaction request (``POST``, form field ``payload=`` JSON) that
Slack signs with the app's signing secret: ``X-Slack-Signature: v0=<hex HMAC-SHA256 of
"v0:{X-Slack-Request-Timestamp}:{raw body}">``. A request whose signature matches, sent less than five
minutes ago, names the Slack user who clicked: that user, checked against the environment's
``approvers``, is the approver. Pure functions here; ``dualpath.flows.slack_approvals`` serves them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import parse_qs

from dualpath.slack.messages import APPROVE_ACTION, REJECT_ACTION

MAX_AGE_S = 300  # Slack's advice: refuse requests older than five minutes (replays)
_ACTIONS = {APPROVE_ACTION: "approve", REJECT_ACTION: "reject"}


class Refused(Exception):
    """A request that must not change anything; ``status`` is the HTTP answer, the text says why."""

    def __init__(self, reason: str, status: int = 401) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


@dataclass(frozen=True)
class Interaction:
    """A click on an approval button: which decision, on which flow run, by which Slack user."""

    decision: str  # approve | reject
    run_id: str
    user_id: str
    user_name: str
    response_url: str | None = None


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Slack-Signature`` Slack sends for ``body`` at ``timestamp``."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str | None, signature: str | None, body: bytes, now: float,
           max_age_s: int = MAX_AGE_S) -> None:
    """Raise ``Refused`` unless Slack signed ``body`` with ``secret`` less than ``max_age_s`` ago."""
    if not timestamp or not signature:
        raise Refused("missing X-Slack-Request-Timestamp or X-Slack-Signature")
    try:
        sent = int(timestamp)
    except ValueError:
        raise Refused("X-Slack-Request-Timestamp is not a number") from None
    if abs(now - sent) > max_age_s:
        raise Refused(f"the request is {abs(now - sent):.0f} s old (more than {max_age_s} s): refused as a replay")
    if not hmac.compare_digest(sign(secret, timestamp, body), signature):
        raise Refused("the signature does not match the body (wrong signing secret, or the request was altered)")


def parse(body: bytes) -> Interaction:
    """The button click in a verified ``payload=`` form body; ``Refused`` (400) for anything else."""
    try:
        payload = json.loads(parse_qs(body.decode(), strict_parsing=True)["payload"][0])
    except (KeyError, ValueError, UnicodeDecodeError):
        raise Refused("the body is not a Slack interaction (form field payload= with JSON)", 400) from None
    if not isinstance(payload, dict) or payload.get("type") != "block_actions":
        raise Refused("not a block_actions interaction", 400)
    actions = [a for a in payload.get("actions") or [] if isinstance(a, dict) and a.get("action_id") in _ACTIONS]
    if not actions:
        raise Refused("no approval button in this interaction", 400)
    user = payload.get("user") or {}
    if not isinstance(user, dict) or not user.get("id"):
        raise Refused("the interaction names no Slack user", 400)
    action = actions[0]
    run_id = str(action.get("value") or "")
    if not run_id:
        raise Refused("the button carries no flow run id", 400)
    return Interaction(decision=_ACTIONS[action["action_id"]], run_id=run_id, user_id=str(user["id"]),
                       user_name=str(user.get("username") or user.get("name") or ""),
                       response_url=payload.get("response_url") or None)


def approver_for(interaction: Interaction, approvers: Sequence[str], approver_ids: Mapping[str, str]) -> str:
    """The approver's name for the Slack user: ``[slack] approver_ids`` maps a user id to a name; else the
    user id or the Slack username as written in ``approvers``. ``Refused`` (403) for anyone not listed."""
    candidates = [approver_ids.get(interaction.user_id), interaction.user_id, interaction.user_name]
    names = [c for c in candidates if c]
    if not approvers:
        return names[0]  # no list: anyone may approve, as in the Prefect form; the Slack user is still verified
    for name in names:
        if name in approvers:
            return name
    who = f"{interaction.user_name} ({interaction.user_id})" if interaction.user_name else interaction.user_id
    raise Refused(f"Slack user {who} is not an approver of this environment (approvers: {', '.join(approvers)}); "
                  "the run stays paused", 403)


def verified_comment(interaction: Interaction) -> str:
    """What the decision's comment says of where it came from."""
    verb = "approved" if interaction.decision == "approve" else "rejected"
    return (f"{verb} in Slack by {interaction.user_name or interaction.user_id} (Slack user {interaction.user_id}, "
            "identity verified by Slack's request signature)")
