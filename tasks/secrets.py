"""Secret references in dualpath.toml resolved from Prefect Secret blocks, inside a flow run only.

``{{ prefect.blocks.secret.NAME }}`` (anywhere in a value, e.g. the password of a tenant URL) and
``secret:NAME`` (the whole value) are looked up with ``Secret.load(NAME)`` right before a connection
is opened, never earlier: parameters, logs and reports only ever carry the reference.
"""

from __future__ import annotations

from typing import Any

from dualpath.config import set_secret_resolver
from dualpath.errors import UsageError


def load_secret(name: str) -> str:
    from prefect.blocks.system import Secret

    try:
        block: Secret[Any] = Secret.load(name, _sync=True)  # type: ignore[call-arg,assignment]
    except ValueError:
        raise UsageError(f"no Prefect Secret block named '{name}'",
                         hint=f"create it: prefect block create secret, or Secret(value=...).save('{name}')") from None
    value = block.get()
    if not isinstance(value, str):
        raise UsageError(f"the Prefect Secret block '{name}' does not hold a string", hint="store the value as text")
    return value


def install() -> None:
    """Called when the flows and tasks load: from then on the core can resolve secret references."""
    set_secret_resolver(load_secret)


install()
