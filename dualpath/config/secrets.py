"""Secret references (Prefect Secret blocks), resolved late and only inside a flow run; the core imports
no Prefect: the resolver is handed in (tasks/secrets.py)."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import quote

from dualpath.errors import UsageError

# Prefect Secret blocks: "{{ prefect.blocks.secret.NAME }}" anywhere in a value, or "secret:NAME" as the value.
_BLOCK_REF = re.compile(r"\{\{\s*prefect\.blocks\.secret\.(?P<name>[A-Za-z0-9][A-Za-z0-9_-]*)\s*\}\}")


_WHOLE_SECRET = re.compile(r"^secret:(?P<name>[A-Za-z0-9][A-Za-z0-9_-]*)$")


SecretResolver = Callable[[str], str]


_secret_resolver: list[SecretResolver] = []  # set by the Prefect side (tasks/secrets.py); the core imports no Prefect


def set_secret_resolver(resolver: SecretResolver | None) -> None:
    """Where secret references are looked up (a Prefect Secret block loader); None turns them off."""
    _secret_resolver[:] = [resolver] if resolver else []


def has_secret_refs(text: str) -> bool:
    return bool(_BLOCK_REF.search(text) or _WHOLE_SECRET.match(text.strip()))


def mask_secret_refs(text: str) -> str | None:
    """``text`` with each secret reference replaced by a placeholder, None when the whole value is one:
    enough to read a URL's host without looking a secret up."""
    if _WHOLE_SECRET.match(text.strip()):
        return None
    return _BLOCK_REF.sub("secret", text)


def resolve_secrets(text: str, where: str) -> str:
    """Replace secret references with the secret's value, late, right before use. A reference inside
    a URL is percent-encoded (it is a password); a value that is wholly ``secret:NAME`` is used as is."""
    if not has_secret_refs(text):
        return text
    if not _secret_resolver:
        raise UsageError("secret references are resolved only inside a Prefect flow run", where=where,
                         hint="run it with `dualpath run` or a deployment, or use ${ENV} references here")
    resolve = _secret_resolver[0]
    whole = _WHOLE_SECRET.match(text.strip())
    if whole:
        return resolve(whole["name"])
    encode = "://" in text
    return _BLOCK_REF.sub(lambda m: quote(resolve(m["name"]), safe="") if encode else resolve(m["name"]), text)
