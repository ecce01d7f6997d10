"""How a message reaches Slack: the Web API or a webhook, bounded retries, a breaker that pauses after
failures in a row, and slack-sdk's own logging kept free of secrets."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.error import URLError

from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web import WebClient
from slack_sdk.webhook import WebhookClient

from dualpath.slack.messages import (
    hide_secrets,
    redact_text,
)
from dualpath.slack.settings import SlackSettings

logger = logging.getLogger("dualpath.notify")


@dataclass(frozen=True)
class Posted:
    """A message Slack accepted; ``ts`` is None for webhooks, which return no id."""

    channel: str | None
    ts: str | None


class _WebTransport:
    can_update = True

    def __init__(self, client: WebClient, channel: str) -> None:
        self.client = client
        self.channel = channel

    def post(self, payload: dict[str, Any], thread_ts: str | None, broadcast: bool) -> Posted:
        extra: dict[str, Any] = {"thread_ts": thread_ts, "reply_broadcast": broadcast} if thread_ts else {}
        response = self.client.chat_postMessage(channel=self.channel, unfurl_links=False, **payload, **extra)
        return Posted(response.get("channel"), response.get("ts"))

    def update(self, status: Posted, payload: dict[str, Any]) -> Posted:
        response = self.client.chat_update(channel=status.channel or self.channel, ts=status.ts or "", **payload)
        return Posted(response.get("channel"), response.get("ts"))


class _WebhookTransport:
    """Posts only: a webhook returns no message id, so it can neither thread nor update."""

    can_update = False

    def __init__(self, client: WebhookClient) -> None:
        self.client = client

    def post(self, payload: dict[str, Any], thread_ts: str | None, broadcast: bool) -> Posted:
        response = self.client.send_dict(payload)
        if response.status_code != 200:
            raise RuntimeError(f"webhook answered HTTP {response.status_code}: {response.body[:200]}")
        return Posted(None, None)

    def update(self, status: Posted, payload: dict[str, Any]) -> Posted:
        raise NotImplementedError("webhooks cannot update messages")


_Transport = _WebTransport | _WebhookTransport


def open_transport(settings: SlackSettings, env: str, secrets: list[str]) -> _Transport | None:
    """The bot token wins over a webhook; with neither, notifications are off."""
    handlers = _retry_handlers(settings)
    sdk_logger = _quiet_sdk_logger(secrets)
    if settings.bot_token:
        channel = settings.channel_for(env)
        if channel is None:
            logger.warning("slack: no channel for environment %r; notifications are off", env)
            return None
        client = WebClient(token=settings.bot_token.get_secret_value(), base_url=settings.api_base_url,
                           timeout=settings.timeout_s, retry_handlers=handlers, logger=sdk_logger)
        return _WebTransport(client, channel)
    hook = settings.webhook_for(env)
    if hook:
        return _WebhookTransport(WebhookClient(hook, timeout=settings.timeout_s, retry_handlers=handlers,
                                               logger=sdk_logger))
    return None


def _retry_handlers(settings: SlackSettings) -> list[RetryHandler]:
    return [
        _BoundedRateLimitHandler(settings.rate_limit_retries, settings.max_retry_wait_s),
        _QuickConnectionRetryHandler(settings.connection_retries, FixedValueRetryIntervalCalculator(0.5)),
    ]


class _BoundedRateLimitHandler(RateLimitErrorRetryHandler):
    """Honours Retry-After, but gives up once waiting would exceed the budget for one message."""

    def __init__(self, max_retry_count: int, max_wait_s: float) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.max_wait_s = max_wait_s

    def _can_retry(self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
                   error: Exception | None = None) -> bool:
        if response is None or response.status_code != 429:
            return False
        return _waited(state) + _retry_after(response) <= self.max_wait_s

    def prepare_for_next_attempt(self, *, state: RetryState, request: HttpRequest,
                                 response: HttpResponse | None = None, error: Exception | None = None) -> None:
        wait = _retry_after(response) if response is not None else 1.0
        state.custom_values = {**(state.custom_values or {}), "waited_s": _waited(state) + wait}
        state.next_attempt_requested = True
        time.sleep(wait)
        state.increment_current_attempt()


class _QuickConnectionRetryHandler(ConnectionErrorRetryHandler):
    """Retries a refused or reset connection, but not a timeout: a hung server already cost one."""

    def _can_retry(self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
                   error: Exception | None = None) -> bool:
        if isinstance(error, TimeoutError) or (isinstance(error, URLError) and isinstance(error.reason, TimeoutError)):
            return False
        return super()._can_retry(state=state, request=request, response=response, error=error)


def _waited(state: RetryState) -> float:
    return float((state.custom_values or {}).get("waited_s", 0.0))


def _retry_after(response: HttpResponse) -> float:
    for name, values in response.headers.items():
        if name.lower() == "retry-after" and values:
            try:
                return max(0.0, float(values[0]))
            except ValueError:
                break
    return 1.0  # Slack always sends it; one second if a proxy dropped it


class Breaker:
    """After N failures in a row, skip sending for a while: a dead Slack costs one timeout, not one per event."""

    def __init__(self, failures: int, pause_s: float) -> None:
        self.failures = failures
        self.pause_s = pause_s
        self._count = 0
        self._until = 0.0
        self._lock = threading.Lock()  # waves may report from several threads

    def allows(self) -> bool:
        with self._lock:
            return time.monotonic() >= self._until

    def record(self, *, ok: bool) -> None:
        with self._lock:
            self._count = 0 if ok else self._count + 1
            if self._count >= self.failures:
                self._until = time.monotonic() + self.pause_s
                self._count = 0
                logger.warning("slack: %d failures in a row; pausing notifications for %.0fs",
                               self.failures, self.pause_s)


class _SecretFilter(logging.Filter):
    """slack-sdk logs request URLs at debug level; a webhook URL is a secret."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        hidden = sorted(self.secrets, key=len, reverse=True)
        record.msg = hide_secrets(redact_text(record.getMessage()), hidden)
        record.args = None
        return True


_SDK_LOGGER = logging.getLogger("dualpath.notify.slack_sdk")


_SDK_FILTER = _SecretFilter()
_SDK_LOGGER.addFilter(_SDK_FILTER)


if _SDK_LOGGER.level == logging.NOTSET:
    # slack-sdk logs each failure at ERROR; our one warning per event is enough. Lower it to debug Slack.
    _SDK_LOGGER.setLevel(logging.CRITICAL)


def _quiet_sdk_logger(secrets: list[str]) -> logging.Logger:
    _SDK_FILTER.secrets.update(secrets)  # shared by every notifier: the union of their secrets
    return _SDK_LOGGER
