"""Where verify's shadow lives, how it is made again after a failure, and what verify leaves on the server.

The shadow is a database verify creates on the target's server (dropped afterwards), or the empty one the
user gives (``[verify] shadow_url``: checked empty, emptied afterwards). Roles and users belong to the
whole server, not to a database: those the changes made are dropped when the shadow goes, and what
cannot be undone is reported.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Sequence
from types import TracebackType

from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from dualpath.apply import new_run_id
from dualpath.changes import Change, Statement
from dualpath.engines import open_engine
from dualpath.engines.base import Engine
from dualpath.engines.probes import ServerObject
from dualpath.engines.verbatim import run_verbatim
from dualpath.errors import PrivilegeMissing
from dualpath.urls import safe_url

Echo = Callable[[str], None]


def named_in(statements: Sequence[Statement], name: str) -> str | None:
    """file:line of the first statement that names ``name`` (its bare name, as a word)."""
    bare = name.rsplit(".", 1)[-1].strip('"`')
    pattern = re.compile(rf"(?<![\w$]){re.escape(bare)}(?![\w$])", re.I)
    return next((s.where for s in statements if pattern.search(s.text)), None)


class ServerLedger:
    """The roles and users on the shadow's server before verify, to drop the ones the changes made since."""

    def __init__(self, server: Engine, changes: Sequence[Change]) -> None:
        self.server = server
        self.statements = [s for c in changes for s in c.forward]
        self.before = self._read()

    def _read(self) -> list[ServerObject] | None:
        with self.server.connect() as conn:
            found = self.server.server_objects(conn)
            conn.rollback()
        return found

    def restore(self, final: bool) -> list[str]:
        """Drop what a change made (and names) since verify began; lines for people about what was done
        and, on the ``final`` call, what could not be undone."""
        if self.before is None:
            mentions = any(re.search(r"\b(?:CREATE|DROP)\s+(?:ROLE|USER)\b", s.text, re.I) for s in self.statements)
            return ["could not list the server's users and roles (no privilege): any a change made on the shadow's "
                    "server are still there; drop them by hand"] if final and mentions else []
        known = {o.label for o in self.before}
        notes: list[str] = []
        with self.server.connect() as conn:
            now = self.server.server_objects(conn) or []
            conn.commit()
            for made in (o for o in now if o.label not in known):
                where = named_in(self.statements, made.name)
                if where is None:
                    if final and made.kind != "database":  # shadows and other runs' databases come and go
                        notes.append(f"{made.label} appeared on the server while verify ran; no change names it, "
                                     "so verify left it alone")
                    continue
                try:
                    if made.kind == "database":  # DROP DATABASE refuses a transaction block
                        with self.server.autocommit(conn):
                            run_verbatim(conn, made.drop)
                    else:
                        run_verbatim(conn, made.drop)
                    conn.commit()
                except DBAPIError as exc:
                    conn.rollback()
                    reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
                    notes.append(f"could not drop {made.label} (made by {where}) after verify: {reason}; "
                                 f"drop it by hand: {made.drop}")
                    continue
                if final:
                    notes.append(f"dropped {made.label} (made by {where}): verify leaves the server's databases, "
                                 "users and roles as it found them")
        if final:
            current = {o.label for o in now}
            for gone in (o for o in self.before if o.label not in current):
                where = named_in(self.statements, gone.name)
                if where is not None:
                    notes.append(f"{gone.label} existed before verify and is gone: {where} drops it and verify "
                                 "cannot make it again; recreate it by hand")
        return notes


class ShadowSite:
    """The shadow database of one verify: made (again, after a failure), and discarded at the end."""

    def __init__(self, engine: Engine, given: URL | None, target: str, changes: Sequence[Change],
                 echo: Echo) -> None:
        self.engine, self.given, self.target, self.echo = engine, given, target, echo
        self.changes = changes
        self.url: URL | None = None
        self.notes: list[str] = []  # about the server's users and roles
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> ShadowSite:
        server = self.engine
        if self.given is not None:
            server = open_engine(self.given)
            # one verify at a time in a user's shadow
            self._stack.enter_context(server.run_lock(new_run_id(), "dualpath verify"))
        self._user_shadow = server
        self.ledger = ServerLedger(server, self.changes)
        return self

    def make(self) -> URL:
        """A fresh shadow holding the target's schema; an earlier one is discarded first."""
        if self.url is not None:
            self.discard()
            self.notes += self.ledger.restore(final=False)  # a change made again must find its role gone
        if self.given is None:
            try:
                self.url = self.engine.create_shadow()
            except PrivilegeMissing as exc:
                raise PrivilegeMissing(exc.message, where=exc.where, hint=(
                    f"set [verify] shadow_url (or --shadow-url) to an empty database this user owns, or {exc.hint}; "
                    "see docs/configuration.md")) from None
            self.echo(f"shadow {safe_url(self.url)} created from {self.target}")
        else:
            self.engine.adopt_shadow(self._user_shadow)
            self.url = self.given
            self.echo(f"shadow {safe_url(self.given)} (from [verify] shadow_url) filled from {self.target}")
        return self.url

    def discard(self) -> None:
        if self.url is None:
            return
        url, self.url = self.url, None
        if self.given is None:
            self.engine.drop_shadow(url)
            self.echo(f"shadow {safe_url(url)} dropped")
            return
        left = self.engine.empty_shadow(self._user_shadow)
        self.echo(f"shadow {safe_url(url)} emptied" + (f"; could not drop: {', '.join(left)}" if left else ""))

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            self.discard()
            self.notes += self.ledger.restore(final=True)
        finally:
            self._stack.close()
