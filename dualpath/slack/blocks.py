"""Slack Block Kit pieces and text rules: sections, fields, buttons, length limits, escaping, and the
redaction of a whole payload."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from dualpath.redaction import redact

Block = dict[str, Any]


# Slack rejects messages over these sizes instead of truncating them.
_HEADER_MAX = 150


_TEXT_MAX = 3000


_FIELD_MAX = 2000


_BUTTON_MAX = 75


_LIST_MAX = 15


def say(text: str) -> str:
    """Run-supplied text made safe for mrkdwn: passwords redacted, then control characters escaped."""
    # Redact first: escaping turns '&password=' into '&amp;password=', which redact would miss.
    return escape(redact_text(text))


def redact_text(text: str) -> str:
    """Passwords in URLs, secret query parameters and key=value secrets hidden (the one redaction)."""
    return redact(text)


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def summarize_risks(risks: Mapping[str, int]) -> str:
    parts = [f"{count} {say(severity)}" for severity, count in risks.items() if count]
    return " · ".join(parts) or "none found"


def format_duration(seconds: float) -> str:
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m {secs:02d}s" if minutes else f"{secs}s"


def bullets(items: Iterable[str]) -> str:
    listed = list(items)
    lines = [f"• {say(item)}" for item in listed[:_LIST_MAX]]
    if len(listed) > _LIST_MAX:
        lines.append(f"… and {len(listed) - _LIST_MAX} more")
    return "\n".join(lines)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": clip(text, _HEADER_MAX), "emoji": True}}


def section(markdown: str) -> Block:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(markdown, _TEXT_MAX)}}


def fields(pairs: Iterable[tuple[str, str]]) -> Block:
    items = [{"type": "mrkdwn", "text": clip(f"*{name}*\n{value}", _FIELD_MAX)} for name, value in pairs]
    return {"type": "section", "fields": items[:10]}  # Slack allows ten fields per section


def context(markdown: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(markdown, _TEXT_MAX)}]}


def button(label: str, url: str, action_id: str, *, primary: bool = False) -> Block:
    element: Block = {"type": "button", "text": {"type": "plain_text", "text": clip(label, _BUTTON_MAX)},
                      "url": redact_text(url), "action_id": action_id}
    if primary:
        element["style"] = "primary"
    return element


def decision_button(label: str, action_id: str, run_id: str, style: str) -> Block:
    """An interactive button (no URL): Slack sends its click, signed, to the app's request URL."""
    verb = label.lower()
    return {"type": "button", "text": {"type": "plain_text", "text": label}, "action_id": action_id,
            "value": run_id, "style": style,
            "confirm": {"title": {"type": "plain_text", "text": f"{label} this migration?"},
                        "text": {"type": "mrkdwn", "text": f"You {verb} it as yourself; read the plan first."},
                        "confirm": {"type": "plain_text", "text": label},
                        "deny": {"type": "plain_text", "text": "Cancel"}}}


def actions(elements: list[Block]) -> Block:
    return {"type": "actions", "elements": elements}


def scrub(value: Any, secrets: Iterable[str] = ()) -> Any:
    """Every string inside ``value`` with URL passwords and the given secret values hidden."""
    hidden = sorted({s for s in secrets if s}, key=len, reverse=True)  # longest first: a URL before its token
    return _scrub(value, hidden)


def _scrub(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        return hide_secrets(redact_text(value), secrets)
    if isinstance(value, dict):
        return {key: _scrub(item, secrets) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(item, secrets) for item in value]
    return value


def hide_secrets(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        # The escaped form too: a secret with '&' reaches mrkdwn as '&amp;'.
        for form in {secret, escape(secret)}:
            text = text.replace(form, "***")
    return text
