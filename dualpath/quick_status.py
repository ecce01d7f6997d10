"""``dualpath status`` in the time a person waits for a prompt: the folder from its cache, the history
over the driver alone, no SQLAlchemy (its import was most of a status on 500 changes).

It serves the common case only: a URL read without doubt (engines/plain.py), a folder whose cache is
current (changes_cache.py), a server that answers and history that reads. Anything else returns None
and the command takes the usual path (session.py), which reads the folder, tells errors with their
hints and fills the cache for the next run. What is shown is judged by the same code either way
(status.compute_states over history/rows.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dualpath.changes import Change
from dualpath.changes_cache import CACHE_DIR, cached_read, reading_key
from dualpath.defaults import QuickSettings
from dualpath.engines.plain import PlainUrl, connect_plain, dialect_of, parse_plain, tables_present
from dualpath.history.plain import AUDIT, HISTORY, TABLES, read_history_plain
from dualpath.status import ChangeState, compute_states


@dataclass(frozen=True)
class QuickStatus:
    label: str  # the target's name, or its URL as given (to be shown through redaction.shown_target)
    layout: str
    changes: list[Change]
    states: list[ChangeState]
    target: QuickTarget


class _NotCached(Exception):
    """The folder must be read: the usual path does it (and caches it)."""


def _read_anyway() -> tuple[str, list[Change]]:
    raise _NotCached


def quick_states(settings: QuickSettings, url_or_name: str | None, migrations: Path | None,
                 also: Callable[[PlainUrl, Any, set[str]], bool] | None = None) -> QuickStatus | None:
    """The states of the target, or None when the usual path must answer (see the module docstring).
    Errors of the configuration (an unknown target, a missing variable) are raised as they are.
    ``also``: a further condition on the URL, the connection and which dualpath tables exist (None
    when it does not hold or raises)."""
    found = quick_target(settings, url_or_name, migrations)
    url = parse_plain(found.url) if found is not None else None
    if found is None or url is None:
        return None
    placeholders = settings.placeholder_replacement  # their values matter only to a folder never cached
    key = reading_key(dialect_of(url), settings.follow_links_outside, settings.missing_rollbacks, placeholders)
    try:
        layout, changes = cached_read(found.migrations, settings.root / CACHE_DIR, key, {} if placeholders else None,
                                      _read_anyway)
    except _NotCached:
        return None
    conn = connect_plain(url)
    if conn is None:
        return None
    try:
        present = tables_present(url, conn, TABLES if also else (HISTORY, AUDIT))
        if also is not None and not also(url, conn, present):
            return None
        latest, facts = read_history_plain(conn, present)
    except Exception:  # noqa: BLE001 - any driver's error: the usual path reads again and tells it properly
        return None
    finally:
        conn.close()
    return QuickStatus(found.name if found.name != "url" else found.url, layout, changes,
                       compute_states(changes, latest, facts), found)


@dataclass(frozen=True)
class QuickTarget:
    name: str  # the target's name in dualpath.toml, or "url"
    url: str  # may hold a password: never shown as it is
    migrations: Path
    lock_timeout_ms: int  # the target's [safety], else the settings'
    statement_timeout_ms: int


def quick_target(settings: QuickSettings, url_or_name: str | None, migrations: Path | None) -> QuickTarget | None:
    """The target as ``target.target_text`` finds it; without a config file only a URL is read here (the
    usual path explains a missing one, or a name no file defines)."""
    if settings.full is not None:
        from dualpath.target import target_text

        found = target_text(settings.full, url_or_name, migrations)
        return QuickTarget(found.name, found.url, found.migrations, found.safety.lock_timeout_ms,
                           found.safety.statement_timeout_ms)
    if not url_or_name or not ("://" in url_or_name or url_or_name.startswith("sqlite:")):
        return None
    return QuickTarget("url", url_or_name, migrations or settings.migrations, settings.lock_timeout_ms,
                       settings.statement_timeout_ms)
