"""What a server's errors mean for the person running dualpath: each engine maps its driver's codes
(SQLSTATE classes, MySQL errnos, SQLite result codes) to FAILURE_KINDS and to hints that say what to do."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Connection
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from dualpath.errors import ConnectionFailed
from dualpath.urls import endpoint, redact

REACHABILITY_HINT = "check host and port, and that the database server is running"

# What a server error means for the person running dualpath, whatever the dialect's code for it
# (SQLSTATE classes, MySQL errnos, SQLite result codes): each engine maps its codes to these.
FAILURE_KINDS = ("read_only", "permission", "auth", "statement_timeout", "canceled", "lock_timeout",
                 "deadlock", "connection", "duplicate_object")


class ServerErrors:
    """The error half of an Engine (base.Engine inherits it): the ``driver_*`` methods are the dialect's,
    the rest reads any server's errors through them."""

    label = ""
    url: URL

    def quote_ident(self, name: str) -> str:
        raise NotImplementedError

    def connection_failed(self, exc: DBAPIError, url: URL) -> ConnectionFailed:
        """Say where and why, never the password; tell how to fix a missing database."""
        reason = self.driver_reason(exc, url)
        where = endpoint(url)
        missing = self.missing_database(exc)
        if missing:
            return ConnectionFailed(f"database '{url.database}' does not exist on {where}",
                                    hint=self.create_database_hint(url))
        kind = self.failure_kind(exc)
        if kind in ("statement_timeout", "canceled"):  # connected, then the session's own settings cancel
            return ConnectionFailed(
                f"connected to {self.label} at {where}, but the server canceled dualpath's first queries: "
                f"{reason}", hint="a statement timeout set for this session (the URL's options, or the "
                                  "user's or database's settings) is too short for anything to run: remove "
                                  "it; dualpath sets its own from [safety] statement_timeout_ms")
        if kind in ("auth", "permission"):
            user = f"user '{url.username}'" if url.username else "the user"
            return ConnectionFailed(f"{self.label} at {where} refused {user}: {reason}",
                                    hint="check the user name and password in the URL (or the secret it "
                                         "names), and that the user may connect to this database")
        return ConnectionFailed(f"cannot connect to {self.label} at {where}: {reason}",
                                hint=REACHABILITY_HINT)

    @staticmethod
    def driver_reason(exc: BaseException, url: URL) -> str:
        orig = exc.orig if isinstance(exc, DBAPIError) else exc
        text = " ".join(str(orig).split())
        if url.password:
            text = text.replace(str(url.password), "***")
        return redact(text)

    def missing_database(self, exc: DBAPIError) -> bool:
        return False

    def create_database_hint(self, url: URL) -> str:
        return f"create it first: CREATE DATABASE {self.quote_ident(url.database or '')}"

    def is_lock_timeout(self, exc: BaseException) -> bool:
        return any(self.driver_lock_timeout(e) for e in driver_errors(exc))

    def is_statement_timeout(self, exc: BaseException) -> bool:
        return any(self.driver_statement_timeout(e) for e in driver_errors(exc))

    def failure_kind(self, exc: BaseException) -> str | None:
        """Which of FAILURE_KINDS a server error is (the first driver error that has one), or None."""
        for orig in driver_errors(exc):
            kind = self.driver_failure_kind(orig)
            if kind is not None:
                return kind
        return None

    def driver_failure_kind(self, orig: BaseException) -> str | None:
        if self.driver_lock_timeout(orig):
            return "lock_timeout"
        if self.driver_deadlock(orig):
            return "deadlock"
        if self.driver_statement_timeout(orig):
            return "statement_timeout"
        return None

    def driver_lock_timeout(self, orig: BaseException) -> bool:
        raise NotImplementedError

    def driver_statement_timeout(self, orig: BaseException) -> bool:
        raise NotImplementedError

    def is_deadlock(self, exc: BaseException) -> bool:
        """The server chose this transaction as a deadlock victim and rolled it back: safe to retry."""
        return any(self.driver_deadlock(e) for e in driver_errors(exc))

    def driver_deadlock(self, orig: BaseException) -> bool:
        return False

    def is_permission_denied(self, exc: BaseException) -> bool:
        """The server refused for lack of a privilege (not a lock, not a missing object)."""
        return any(self.driver_permission_denied(e) for e in driver_errors(exc))

    def driver_permission_denied(self, orig: BaseException) -> bool:
        return False

    def table_grant_hint(self, conn: Connection) -> str:
        """What an administrator runs so this user may create tables where this connection creates them."""
        return f"ask an administrator to let {self.url.username or 'this user'} create tables in this database"

    def grant_hint(self, conn: Connection, databases: str) -> str:
        """What an administrator runs so this user may create (and use, and drop) the ``databases``."""
        return f"ask an administrator to let {self.url.username or 'this user'} create databases"


def driver_errors(exc: BaseException) -> Iterator[BaseException]:
    """The exception, the driver error SQLAlchemy wraps, and their causes."""
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        if isinstance(current, DBAPIError) and isinstance(current.orig, BaseException):
            todo.append(current.orig)
        todo.append(current.__cause__)  # not __context__: a later, unrelated error
