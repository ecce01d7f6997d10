"""A local HTTP server that answers like Slack's Web API (and an incoming webhook) and records requests.

slack-sdk is pointed at it with ``base_url`` (``SlackSettings.api_base_url``); tests then read what
Slack would have received. Used by the notifier's integration tests and the flow's e2e tests.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass
class Recorded:
    path: str
    body: dict[str, Any]
    raw: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class SlackRecorder:
    """What the fake Slack received, and how it should misbehave."""

    port: int = 0
    requests: list[Recorded] = field(default_factory=list)
    rate_limit_next: int = 0  # answer 429 to this many requests first
    # called with each request once recorded, before it is answered: the sender is still waiting, so a
    # test can change the world at a known point of a run (e.g. the clock, when "wave 1/3" is posted)
    on_request: Callable[[Recorded], None] | None = None
    _ts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    def stop(self) -> None:
        """Go away like a dead Slack: nothing listens on the port any more."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def next_ts(self) -> str:
        with self.lock:
            self._ts += 1
            return f"1700000000.{self._ts:06d}"

    def calls(self, method: str) -> list[dict[str, Any]]:
        return [r.body for r in self.requests if r.path == f"/api/{method}"]

    def everything(self) -> str:
        """Every request as received, headers included except ``Authorization`` (where a bot token
        must go): what a leak test searches."""
        return "\n".join(f"{r.path}\n{json.dumps({k: v for k, v in r.headers.items() if k != 'Authorization'})}"
                         f"\n{r.raw}" for r in self.requests)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"


def _handler(recorder: SlackRecorder) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode("utf-8")
            with recorder.lock:
                recorder.requests.append(Recorded(self.path, _parse(raw, self.headers.get("Content-Type", "")), raw,
                                                  dict(self.headers.items())))
                body = recorder.requests[-1].body
            if recorder.on_request is not None:
                recorder.on_request(recorder.requests[-1])
            if recorder.rate_limit_next > 0:
                recorder.rate_limit_next -= 1
                self._answer(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"})
            elif self.path.startswith("/api/chat.postMessage"):
                self._answer(200, {"ok": True, "channel": "C1", "ts": recorder.next_ts()})
            elif self.path.startswith("/api/chat.update"):
                self._answer(200, {"ok": True, "channel": body.get("channel"), "ts": body.get("ts")})
            else:  # an incoming webhook answers plain "ok"
                self._answer(200, None)

        def _answer(self, status: int, body: dict[str, Any] | None, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode() if body is not None else b"ok"
            self.send_response(status)
            self.send_header("Content-Type", "application/json" if body is not None else "text/plain")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return Handler


def _parse(raw: str, content_type: str) -> dict[str, Any]:
    if "json" in content_type:
        return dict(json.loads(raw))
    form = {k: v[0] for k, v in parse_qs(raw).items()}
    if "blocks" in form:
        form["blocks"] = json.loads(form["blocks"])
    return form


@contextlib.contextmanager
def recording_slack() -> Iterator[SlackRecorder]:
    """A recorder listening on a free loopback port until the block ends."""
    recorder = SlackRecorder()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(recorder))
    recorder.port, recorder.server = server.server_address[1], server
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield recorder
    finally:
        recorder.stop()
