"""The one redaction of free text: passwords in URLs, secret query parameters and key=value secrets.

A parsed URL hides its own secrets (``dualpath.urls.DatabaseURL``); this is for everything else that
may carry one: driver errors, messages, history details, log lines, Slack payloads. It imports
nothing of dualpath, so errors.py can use it and every message passes through it.
"""

from __future__ import annotations

import re
from typing import Any

MASK = "***"

# Names whose value is a secret: password, passwd, pwd, sslpassword, secret, token, access_token, api_key...
SECRET_NAME = re.compile(r"^\w*(?:password|passwd|pwd|secret|token|credential|api_?key)$", re.I)

# scheme://userinfo@ — greedy to the last '@' of the token: a raw password may hold '@', ':', '/', '#', '?'
# (all of it is userinfo then, and hiding a little too much is the safe side).
_URL_USERINFO = re.compile(r"(?P<scheme>\b[a-z][a-z0-9+.-]*://)(?P<userinfo>[^\s'\"<>`]*)@", re.I)
# password=..., ?sslpassword=..., &passwd=..., token = '...' (libpq conninfo, query strings, options)
_ASSIGNMENT = re.compile(
    r"(?P<head>(?<![\w-])\w*(?:password|passwd|pwd|secret|token|credential|api_?key)\s*(?:=|%3D)\s*)"
    r"(?:'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^\s&;'\"<>]+)", re.I)


def redact(text: str) -> str:
    """``text`` with every password and secret value it holds replaced by ***."""
    if not text:
        return text
    # neither pattern can match without these (most texts, e.g. a change's history row, hold none of them)
    if "://" in text:
        text = _URL_USERINFO.sub(lambda m: m["scheme"] + _masked_userinfo(m["userinfo"]) + "@", text)
    if "=" in text or "%3" in text:
        text = _ASSIGNMENT.sub(lambda m: m["head"] + MASK, text)
    return text


# "postgresql+psycopg://" -> "postgresql://": the driver is dualpath's business, not the reader's
_DRIVER = re.compile(r"\b([a-z][a-z0-9.-]*)\+[a-z0-9_]+://", re.I)


def shown_target(label: str) -> str:
    """A target as a person reads it: a target name stays; a URL loses its driver suffix and its password."""
    return redact(_DRIVER.sub(r"\1://", label))


def _masked_userinfo(userinfo: str) -> str:
    """'user:secret' -> 'user:***'; a bare user stays; anything odd is hidden whole."""
    if ":" in userinfo:
        user = userinfo.split(":", 1)[0]
        return MASK if "@" in user else f"{user}:{MASK}"
    return MASK if "@" in userinfo else userinfo


def scrub(value: Any) -> Any:
    """Every string inside ``value`` (dicts, lists, tuples) redacted; other values as they are."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: scrub(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(item) for item in value]
    return value
