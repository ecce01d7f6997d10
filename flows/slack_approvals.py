"""The Slack approval receiver: Slack's Approve/Reject button clicks resume a paused migrate run.

A small HTTP server (stdlib ``http.server``) the operator runs where Slack can reach it (the Slack app's
Interactivity request URL). Each request is verified with the app's signing secret and its timestamp
(``dualpath.slack.approvals``); the Slack user who clicked must be an approver of the run's environment.
Then the run is resumed with ``resume_flow_run(run_id, run_input=...)``, the Slack user as approver. Anything
else is refused and the run stays paused; Slack hears why (``response_url``, an ephemeral reply).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from dualpath.slack.approvals import Interaction, Refused, approver_for, parse, verified_comment, verify

logger = logging.getLogger("dualpath.slack_approvals")
_MAX_BODY = 64 * 1024  # an interaction payload is a few kB


@dataclass
class Receiver:
    """Turns a signed button click into a resumed run. ``approvers`` gives an environment's approvers."""

    signing_secret: str = field(repr=False)
    approvers: Callable[[str], Sequence[str]]
    approver_ids: Mapping[str, str] = field(default_factory=dict)
    clock: Callable[[], float] = time.time

    def handle(self, body: bytes, headers: Mapping[str, str]) -> tuple[int, str]:
        """(HTTP status, the text Slack shows the user). Never raises for a bad request."""
        try:
            verify(self.signing_secret, headers.get("X-Slack-Request-Timestamp"), headers.get("X-Slack-Signature"),
                   body, self.clock())
        except Refused as refused:  # not from Slack: no reply to any response_url it may name
            logger.warning("slack approval refused: %s", refused.reason)
            return refused.status, refused.reason
        try:
            interaction = parse(body)
            text = self.decide(interaction)
        except Refused as refused:
            logger.warning("slack approval refused: %s", refused.reason)
            self.reply(body, refused.reason)
            return refused.status, refused.reason
        logger.info("slack approval: %s", text)
        self.reply(body, text)
        return 200, text

    def decide(self, interaction: Interaction) -> str:
        """Resume the run with the Slack user's decision; ``Refused`` when the user or the run does not fit."""
        from prefect.client.orchestration import get_client
        from prefect.flow_runs import resume_flow_run

        try:
            run_id = uuid.UUID(interaction.run_id)
        except ValueError:
            raise Refused(f"'{interaction.run_id}' is not a flow run id", 400) from None
        try:
            with get_client(sync_client=True) as client:
                run = client.read_flow_run(run_id)
        except Exception as exc:
            raise Refused(f"flow run {run_id} could not be read from Prefect ({type(exc).__name__})", 404) from None
        env = str((run.parameters or {}).get("env") or "")
        if not env:
            raise Refused(f"flow run {run.name} is not a dualpath migrate run", 409)
        if run.state is None or not run.state.is_paused():
            state = run.state.name if run.state else "no state"
            raise Refused(f"flow run {run.name} is not waiting for a decision (it is {state})", 409)
        approver = approver_for(interaction, self.approvers(env), self.approver_ids)
        run_input = {"decision": interaction.decision, "approver": approver, "ticket": "",
                     "comment": verified_comment(interaction)}
        try:
            resume_flow_run(run_id, run_input=run_input)
        except Exception as exc:  # e.g. paused for another form (a rollback acknowledgement)
            raise Refused(f"flow run {run.name} could not be resumed: {exc}", 409) from None
        verb = "approved" if interaction.decision == "approve" else "rejected"
        return f"{verb} by {approver}: flow run {run.name} ({env}) resumes"

    def reply(self, body: bytes, text: str) -> None:
        """An ephemeral answer in Slack to the user who clicked (only for requests Slack signed)."""
        try:
            url = parse(body).response_url
        except Refused:
            return
        if not url:
            return
        try:
            httpx.post(url, json={"response_type": "ephemeral", "replace_original": False, "text": text},
                       timeout=5)
        except httpx.HTTPError as exc:
            logger.warning("slack approval: the reply to Slack failed (%s)", type(exc).__name__)


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length") or 0)
            if length > _MAX_BODY:
                self._answer(413, "request too large")
                return
            body = self.rfile.read(length)
            status, text = receiver.handle(body, {k: v for k, v in self.headers.items()})
            self._answer(status, text)

        def do_GET(self) -> None:  # noqa: N802
            self._answer(200 if self.path == "/health" else 404, "ok" if self.path == "/health" else "not found")

        def _answer(self, status: int, text: str) -> None:
            data = json.dumps({"ok": status == 200, "text": text}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's name
            logger.debug("%s " + format, self.address_string(), *args)  # request lines carry no secret

    return Handler


def make_server(receiver: Receiver, host: str = "127.0.0.1", port: int = 3000) -> ThreadingHTTPServer:
    return ThreadingHTTPServer((host, port), _handler(receiver))


@contextmanager
def serving(receiver: Receiver, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """The receiver on a background thread; its URL. For tests and embedding."""
    server = make_server(receiver, host, port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}/slack/actions"
    finally:
        server.shutdown()
        server.server_close()
