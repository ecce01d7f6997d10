"""Slack notifications for a migration run: one status message, details threaded under it.

``Notifier`` sends what ``dualpath.slack.messages`` builds, through slack-sdk:

* a bot token (``WebClient``): the run's status message is posted once by ``run_started``
  and updated in place with ``chat.update``; every later event is a threaded reply under it
  (approvals and failures are broadcast to the channel too);
* an incoming webhook (``WebhookClient``): a webhook can neither update a message nor
  thread, so each event is posted as a new message and status updates are skipped.

Slack trouble never stops or slows a run: calls time out quickly, 429s are retried after
Retry-After within a bounded budget, errors are logged and swallowed (every method
returns the posted message or None, never raises), and after repeated failures the
notifier pauses sending for a while instead of paying a timeout per message.
Secrets never leave: each payload is scrubbed of URL passwords and configured secret values.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, ParamSpec
from urllib.error import URLError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web import WebClient
from slack_sdk.webhook import WebhookClient

from dualpath.slack.messages import (
    Approval,
    BreakGlass,
    Completion,
    Decided,
    Failure,
    Message,
    PlanSummary,
    Rollback,
    RunInfo,
    State,
    Stopped,
    WaveProgress,
    build_approval,
    build_break_glass,
    build_completion,
    build_decision,
    build_ended,
    build_failure,
    build_progress,
    build_rollback,
    build_run_started,
    build_status,
    build_stopped,
    describe_progress,
    hide_secrets,
    redact_text,
    scrub,
)

__all__ = [
    "Approval", "BreakGlass", "Completion", "Decided", "Failure", "Notifier", "PlanSummary", "Posted", "Rollback",
    "RunInfo", "SlackSettings", "State", "Stopped", "WaveProgress", "slack_settings",
]

logger = logging.getLogger("dualpath.notify")
_P = ParamSpec("_P")

_MENTION = re.compile(r"^<(!subteam\^[A-Z0-9]+|@[UW][A-Z0-9]+|!here|!channel)>$")


class SlackSettings(BaseModel):
    """Where and how to tell Slack about runs. Give a bot token or a webhook URL."""

    model_config = ConfigDict(extra="forbid")

    bot_token: SecretStr | None = None  # xoxb-…: enables updates and threads
    webhook_url: SecretStr | None = None  # fallback when there is no token
    webhook_urls: dict[str, SecretStr] = Field(default_factory=dict)  # per environment
    channels: dict[str, str] = Field(default_factory=dict)  # environment -> channel id or #name
    default_channel: str | None = None
    oncall_mention: str | None = None  # "<!subteam^S123>" or "<@U123>"
    prefect_ui_url: str | None = None  # e.g. "http://127.0.0.1:4200"
    report_link: str | None = None  # e.g. "https://reports.example.com/{env}/{run_id}.html"
    api_base_url: str = "https://slack.com/api/"
    # approve/reject buttons on the approval request, answered by `dualpath slack-approvals serve`
    approval_buttons: bool = False
    signing_secret: SecretStr | None = None  # the Slack app's signing secret: only that receiver needs it
    approver_ids: dict[str, str] = Field(default_factory=dict)  # Slack user id -> name in `approvers`
    timeout_s: int = Field(default=5, ge=1, le=60)
    rate_limit_retries: int = Field(default=2, ge=0, le=10)
    max_retry_wait_s: float = Field(default=10.0, ge=0)  # total Retry-After wait per message
    connection_retries: int = Field(default=1, ge=0, le=5)
    pause_after_failures: int = Field(default=3, ge=1)
    pause_s: float = Field(default=60.0, ge=0)

    @field_validator("oncall_mention")
    @classmethod
    def _check_mention(cls, value: str | None) -> str | None:
        if value is not None and not _MENTION.match(value):
            raise ValueError("write a Slack mention: <!subteam^S123> for a group, <@U123> for a person")
        return value

    @field_validator("report_link")
    @classmethod
    def _check_report_link(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                value.format(run_id="r", env="e")
            except (KeyError, IndexError, ValueError):
                raise ValueError("report_link may only use {run_id} and {env}") from None
        return value

    def channel_for(self, env: str) -> str | None:
        return self.channels.get(env, self.default_channel)

    def webhook_for(self, env: str) -> str | None:
        secret = self.webhook_urls.get(env, self.webhook_url)
        return secret.get_secret_value() if secret else None

    def secret_values(self) -> list[str]:
        """Every configured secret, and the secret path of each webhook URL on its own."""
        hooks = [self.webhook_url, *self.webhook_urls.values()]
        values = [s.get_secret_value() for s in (self.bot_token, self.signing_secret, *hooks) if s]
        values += [v.get_secret_value().rsplit("/", 1)[-1] for v in hooks if v]
        return [v for v in values if len(v) >= 8]  # a short fragment would blank out ordinary words

    def run_url(self, run_id: str) -> str | None:
        return f"{self.prefect_ui_url.rstrip('/')}/runs/flow-run/{run_id}" if self.prefect_ui_url else None

    def report_url(self, run: RunInfo) -> str | None:
        return self.report_link.format(run_id=run.run_id, env=run.env) if self.report_link else None


def slack_settings(data: dict[str, Any], env: str, channel: str | None = None,
                   prefect_ui_url: str | None = None) -> SlackSettings:
    """``[slack]`` from dualpath.toml for one environment: its channel, and the token and webhook URLs
    resolved now (``${ENV}``, Prefect Secret references), right before use and never earlier."""
    from dualpath.config import interpolate

    values = dict(data)
    if channel:
        values["channels"] = {**values.get("channels", {}), env: channel}
    for key in ("bot_token", "webhook_url", "signing_secret"):
        if isinstance(values.get(key), str):
            values[key] = interpolate(values[key], where=f"[slack] {key}")
    if isinstance(values.get("webhook_urls"), dict):
        values["webhook_urls"] = {name: interpolate(str(url), where=f"[slack] webhook_urls.{name}")
                                  for name, url in values["webhook_urls"].items()}
    if prefect_ui_url and not values.get("prefect_ui_url"):
        values["prefect_ui_url"] = prefect_ui_url
    return SlackSettings.model_validate(values)


@dataclass(frozen=True)
class Posted:
    """A message Slack accepted; ``ts`` is None for webhooks, which return no id."""

    channel: str | None
    ts: str | None


def _never_raises(event: Callable[_P, Posted | None]) -> Callable[_P, Posted | None]:
    """Guards a whole event, building included: a bug in a message must not fail a migration."""

    @functools.wraps(event)
    def guarded(*args: _P.args, **kwargs: _P.kwargs) -> Posted | None:
        try:
            return event(*args, **kwargs)
        except Exception as exc:
            logger.warning("slack: %s skipped: %s", event.__name__, type(exc).__name__)  # no text: may hold secrets
            notifier = args[0] if args else None
            if isinstance(notifier, Notifier):
                notifier.failures.append(f"{event.__name__}: {type(exc).__name__}")
            return None

    return guarded


class Notifier:
    """Tells Slack about one environment's runs; never raises, returns ``Posted`` or None."""

    def __init__(self, settings: SlackSettings, env: str) -> None:
        self.settings = settings
        self.env = env
        self._secrets = settings.secret_values()
        self._transport = _open_transport(settings, env, self._secrets)
        self._breaker = _Breaker(settings.pause_after_failures, settings.pause_s)
        self._status: dict[str, Posted] = {}
        self.failures: list[str] = []  # "what: error" of each message Slack did not take (secrets hidden)
        self.skipped = 0  # messages not even tried while sending was paused after repeated failures

    @property
    def enabled(self) -> bool:
        return self._transport is not None

    @property
    def approval_buttons(self) -> bool:
        """The approval request carries approve/reject buttons (a Slack approval with a verified identity)."""
        return self.enabled and self.settings.approval_buttons

    def failure_summary(self) -> str | None:
        """One line for a run's report and log when Slack missed messages; None when all went out."""
        if not self.failures and not self.skipped:
            return None
        reasons = sorted({_shorten(f.split(": ", 1)[-1], 160) for f in self.failures})
        text = f"Slack notifications failed: {len(self.failures)} not sent"
        text += f" ({'; '.join(reasons)})" if reasons else ""
        if self.skipped:
            text += f", {self.skipped} skipped while sending was paused after repeated failures"
        return text + "; the run itself was not affected"

    def status_message(self, run_id: str) -> Posted | None:
        """The run's status message, to keep when the run resumes in another process."""
        return self._status.get(run_id)

    @_never_raises
    def run_started(self, run: RunInfo) -> Posted | None:
        posted = self._post(build_run_started(run, self.settings.run_url(run.run_id)), "run started")
        if posted is not None and posted.ts is not None:
            self._status[run.run_id] = posted
        return posted

    @_never_raises
    def preflight_done(self, run: RunInfo) -> Posted | None:
        """The status message gets the plan's counts once pre-flight has them (it said "pre-flight running…")."""
        changes = run.plan.changes if run.plan is not None else 0
        self._update_status(run, State.RUNNING, f"pre-flight done: {changes} change(s) to apply")
        return self._status.get(run.run_id)

    @_never_raises
    def run_ended(self, run: RunInfo, state: State, detail: str) -> Posted | None:
        """A run's final word when it changed nothing (up to date, dry run, refused): the status message
        takes the final state and the thread hears why; refused before any status message, this is the one."""
        message = build_ended(run, state, detail, self.settings.run_url(run.run_id))
        if run.run_id not in self._status:
            return self._post(message, f"run {state.value}")
        self._update_status(run, state, detail)
        return self._reply(run, message, f"run {state.value}", broadcast=state is State.REFUSED)

    @_never_raises
    def approval_needed(self, run: RunInfo, approval: Approval) -> Posted | None:
        self._update_status(run, State.AWAITING_APPROVAL, approval.what)
        message = build_approval(run, approval, self.settings.run_url(run.run_id), buttons=self.approval_buttons)
        return self._reply(run, message, "approval needed", broadcast=True)

    @_never_raises
    def approval_decided(self, run: RunInfo, decided: Decided) -> Posted | None:
        """The status leaves "awaiting approval" either way; a rejection is broadcast, as the ask was."""
        state = State.APPROVED if decided.approved else State.REJECTED
        self._update_status(run, state, f"by {decided.approver}" if decided.approved else decided.reason)
        message = build_decision(run, decided, self.settings.run_url(run.run_id))
        return self._reply(run, message, "approval decided", broadcast=not decided.approved)

    @_never_raises
    def run_stopped(self, run: RunInfo, stopped: Stopped) -> Posted | None:
        self._update_status(run, State.STOPPED, stopped.reason)
        message = build_stopped(run, stopped, self.settings.run_url(run.run_id))
        return self._reply(run, message, "run stopped", broadcast=True)

    @_never_raises
    def wave_progress(self, run: RunInfo, progress: WaveProgress) -> Posted | None:
        self._update_status(run, State.RUNNING, describe_progress(progress))
        return self._reply(run, build_progress(run, progress), "wave progress")

    @_never_raises
    def run_failed(self, run: RunInfo, failure: Failure) -> Posted | None:
        self._update_status(run, State.FAILED, failure.what)
        message = build_failure(run, failure, self.settings.oncall_mention, self.settings.run_url(run.run_id))
        return self._reply(run, message, "run failed", broadcast=True)

    @_never_raises
    def run_completed(self, run: RunInfo, completion: Completion) -> Posted | None:
        if completion.report_url is None:
            completion = replace(completion, report_url=self.settings.report_url(run))
        self._update_status(run, State.COMPLETED, f"{completion.rows_moved:,} rows moved")
        return self._reply(run, build_completion(run, completion), "run completed")

    @_never_raises
    def run_rolled_back(self, run: RunInfo, rollback: Rollback) -> Posted | None:
        self._update_status(run, State.ROLLED_BACK, rollback.reason)
        message = build_rollback(run, rollback, self.settings.run_url(run.run_id))
        return self._reply(run, message, "rolled back", broadcast=True)

    @_never_raises
    def break_glass(self, run: RunInfo, event: BreakGlass) -> Posted | None:
        """A message of its own in the channel (not in a run's thread): everyone should see it."""
        return self._post(build_break_glass(run, event, self.settings.oncall_mention), "break-glass")

    # --- sending ---------------------------------------------------------------------------

    def _update_status(self, run: RunInfo, state: State, detail: str) -> None:
        status = self._status.get(run.run_id)
        if status is None or self._transport is None or not self._transport.can_update:
            return  # webhooks cannot edit; the event message below says it all
        message = build_status(run, state, detail, self.settings.run_url(run.run_id))
        transport = self._transport
        self._deliver("status update", lambda: transport.update(status, self._clean(message)))

    def _reply(self, run: RunInfo, message: Message, what: str, *, broadcast: bool = False) -> Posted | None:
        status = self._status.get(run.run_id)
        return self._post(message, what, thread_ts=status.ts if status else None, broadcast=broadcast)

    def _post(self, message: Message, what: str, *, thread_ts: str | None = None,
              broadcast: bool = False) -> Posted | None:
        if self._transport is None:
            return None
        transport, clean = self._transport, self._clean(message)
        return self._deliver(what, lambda: transport.post(clean, thread_ts, broadcast))

    def _deliver(self, what: str, send: Callable[[], Posted]) -> Posted | None:
        if not self._breaker.allows():
            logger.debug("slack paused after repeated failures; skipped %s", what)
            self.skipped += 1
            return None
        try:
            posted = send()
        except Exception as exc:  # Slack trouble of any kind must never reach the run
            self._breaker.record(ok=False)
            reason = f"{type(exc).__name__}: {' '.join(self._hide(str(exc)).split())}"  # one line, for a report
            logger.warning("slack: %s not sent: %s", what, reason)
            self.failures.append(f"{what}: {reason}")
            return None
        self._breaker.record(ok=True)
        return posted

    def _clean(self, message: Message) -> dict[str, Any]:
        payload: dict[str, Any] = scrub(message.payload(), self._secrets)
        return payload

    def _hide(self, text: str) -> str:
        return hide_secrets(redact_text(text), self._secrets)


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


# --- transports ------------------------------------------------------------------------------


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


def _open_transport(settings: SlackSettings, env: str, secrets: list[str]) -> _Transport | None:
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


class _Breaker:
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
