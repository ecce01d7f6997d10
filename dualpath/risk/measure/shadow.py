"""The shadow a measurement runs on: the target's schema and a small sample of its rows, dropped afterwards.

Made the way ``dualpath verify`` makes its shadow (``verify_shadow.ShadowSite``: a new database on the
target's server, or the empty one ``[verify] shadow_url`` names; the server's roles and users put back
afterwards), then filled with up to ``sample_rows`` rows per table (PII columns masked), so that scans
read rows and copies copy them. Rows that cannot be loaded leave the shadow with the schema alone: the
measurement still sees rewrites, index builds and locks, and says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy.engine import URL
from sqlalchemy.exc import SQLAlchemyError

from dualpath.changes import Change
from dualpath.engines import open_engine
from dualpath.engines.base import Engine
from dualpath.errors import DualpathError
from dualpath.urls import safe_url

SAMPLE_ROWS = 10  # enough for a scan to read rows and a copy to copy them; cheap to load


@dataclass
class Shadow:
    engine: Engine
    notes: list[str] = field(default_factory=list)


@contextmanager
def shadow_of(target: Engine, changes: Sequence[Change], *, sample_rows: int = SAMPLE_ROWS,
              pii_columns: Sequence[str] = (), shadow_url: URL | None = None,
              echo: Callable[[str], None] = lambda _: None) -> Iterator[Shadow]:
    """A shadow of ``target`` for as long as the block runs; what could not be done is in its notes."""
    from dualpath.verify_rows import copy_sample
    from dualpath.verify_shadow import ShadowSite

    site = ShadowSite(target, shadow_url, safe_url(target.url), changes, echo)
    with site:
        shadow = Shadow(open_engine(site.make()))
        if sample_rows:
            try:
                copy_sample(target, shadow.engine, sample_rows, pii_columns)
            except (DualpathError, SQLAlchemyError) as exc:
                reason = exc.message if isinstance(exc, DualpathError) else str(getattr(exc, "orig", exc))
                shadow.notes.append(f"no sample rows in the shadow ({reason.strip().splitlines()[0]}): measured "
                                    "on the schema alone")
        yield shadow
    shadow.notes += site.notes
