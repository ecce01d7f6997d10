"""The [slack] settings: where messages go (a bot token and channel, or a webhook), who is mentioned, the
links into the Prefect UI, and the secrets to keep out of every message."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from dualpath.slack.messages import (
    RunInfo,
)

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
