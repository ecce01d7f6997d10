"""${ENV} references in values, replaced late; inside a URL percent-encoded into the part they stand in."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from urllib.parse import quote

from dualpath.config.secrets import resolve_secrets
from dualpath.errors import UsageError

_ENV_REF = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")


def interpolate(text: str, where: str) -> str:
    """Replace ``${NAME}`` and ``${NAME:-default}`` from the environment, late, right before use.

    Inside a URL, a value that lands in the user or password part, or in a query parameter's value,
    is percent-encoded: a generated password with ``@ : / # ? & = +`` is a password, not URL syntax."""

    values: list[str] = []

    def value(match: re.Match[str]) -> str:
        name, default = match["name"], match["default"]
        if name in os.environ:
            found = os.environ[name]
        elif default is not None:
            found = default
        else:
            raise UsageError(f"environment variable {name} is not set", where=where,
                             hint=f"export {name}=... or write ${{{name}:-default}}")
        values.append(found)
        return f"\x00{len(values) - 1}\x00"  # a placeholder: where it sits in the URL decides its encoding

    template = _ENV_REF.sub(value, text)
    encoders = _url_part_encoders(template)
    filled = _PLACEHOLDER.sub(lambda m: encoders(m.start())(values[int(m[1])]), template)
    return resolve_secrets(filled, where)


_PLACEHOLDER = re.compile("\x00(\\d+)\x00")


def _url_part_encoders(template: str) -> Callable[[int], Callable[[str], str]]:
    """For a position in ``template``, how a value put there is written: percent-encoded in the
    userinfo (the user side keeps a ``user:password`` value's first colon) and in query values."""
    scheme_end = template.find("://")
    if scheme_end < 0:
        return lambda _: _as_is
    start = scheme_end + 3
    authority_end = min((i for i in (template.find(c, start) for c in "/?#") if i >= 0), default=len(template))
    at = template.rfind("@", start, authority_end)
    colon = template.find(":", start, at) if at >= 0 else -1
    query = template.find("?", start)

    def encoder(position: int) -> Callable[[str], str]:
        if start <= position < at:
            return _user_part if colon < 0 else _quoted  # no literal ':': the value may be user:password
        if 0 <= query < position:
            pair = template[max(template.rfind("&", query, position), query) + 1: position]
            return _quoted if "=" in pair else _as_is
        return _as_is

    return encoder


def _as_is(value: str) -> str:
    return value


def _quoted(value: str) -> str:
    return quote(value, safe="")


def _user_part(value: str) -> str:
    """A value that is the whole userinfo may be ``user:password``: each side encoded, the colon kept."""
    user, sep, password = value.partition(":")
    return _quoted(user) + sep + _quoted(password)
