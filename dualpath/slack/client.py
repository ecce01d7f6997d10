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
from collections.abc import Callable
from dataclasses import replace
from typing import Any, ParamSpec

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
from dualpath.slack.settings import SlackSettings, slack_settings
from dualpath.slack.transport import Breaker, Posted, open_transport

__all__ = [
    "Approval", "BreakGlass", "Completion", "Decided", "Failure", "Notifier", "PlanSummary", "Posted", "Rollback",
    "RunInfo", "SlackSettings", "State", "Stopped", "WaveProgress", "slack_settings",
]


logger = logging.getLogger("dualpath.notify")


_P = ParamSpec("_P")


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
        self._transport = open_transport(settings, env, self._secrets)
        self._breaker = Breaker(settings.pause_after_failures, settings.pause_s)
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
