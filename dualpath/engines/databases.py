"""Databases on a server: CREATE and DROP DATABASE (shadows, scratch restores, tests), refused with the
grant that would allow them."""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import Connection, text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError

from dualpath.engines.failures import ServerErrors
from dualpath.engines.verbatim import run_verbatim
from dualpath.errors import DualpathError, PrivilegeMissing
from dualpath.urls import endpoint


class SharedEngines:
    """SQLAlchemy engines by URL, kept for the process: one engine per tenant URL instead of one per
    connection. Their pools are NullPools, so nothing stays connected between uses (a fan-out over
    thousands of tenants never parks idle connections on a server); what is saved is SQLAlchemy's first
    connect (the dialect's server probes, ~2/3 of a connection's cost). Bounded: the least recently used
    engine is dropped, which a NullPool engine allows at any time."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.made = 0  # engines created: tests count reuse with it
        self._engines: OrderedDict[tuple[str, str], sa.Engine] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str], make: Callable[[], sa.Engine]) -> sa.Engine:
        with self._lock:
            engine = self._engines.get(key)
            if engine is not None:
                self._engines.move_to_end(key)
                return engine
            engine = self._engines[key] = make()
            self.made += 1
            if len(self._engines) > self.size:
                self._engines.popitem(last=False)
            return engine

    def forget(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._engines.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._engines.clear()


SHARED_ENGINES = SharedEngines(512)


class ServerDatabases(ServerErrors):
    """The databases half of an Engine (base.Engine inherits it)."""

    if TYPE_CHECKING:
        def make_sa_engine(self, url: URL | None = None, **connect_args: Any) -> sa.Engine: ...

        def open_connection(self, engine: sa.Engine, url: URL | None = None) -> \
                contextlib.AbstractContextManager[Connection]: ...

    def shared_sa_engine(self, url: URL | None = None) -> sa.Engine:
        """``make_sa_engine(url)`` made once per process and URL (``SHARED_ENGINES``); never disposed by
        its users (it holds no connection)."""
        target = url or self.url
        return SHARED_ENGINES.get(self._shared_key(target), lambda: self.make_sa_engine(target))

    def forget_shared_engine(self, url: URL | None = None) -> None:
        """The next connection makes a new engine (and runs SQLAlchemy's first connect again)."""
        SHARED_ENGINES.forget(self._shared_key(url or self.url))

    def _shared_key(self, url: URL) -> tuple[str, str]:
        return type(self).__qualname__, url.render_as_string(hide_password=False)

    def server_url(self) -> URL:
        """Where CREATE/DROP DATABASE run: this server, without this database."""
        raise NotImplementedError(f"{self.label} has no server to create databases on")

    @contextlib.contextmanager
    def server_connection(self) -> Iterator[Connection]:
        url = self.server_url()
        with self.open_connection(self.shared_sa_engine(url), url) as conn:
            yield conn.execution_options(isolation_level="AUTOCOMMIT")

    def create_database(self, name: str, grant_on: str | None = None) -> URL:
        """CREATE DATABASE; refused for lack of a privilege, the hint grants it on ``grant_on`` (a LIKE
        pattern of database names where the dialect grants per database; default: this name)."""
        with self.server_connection() as conn:
            self.run_on_server(conn, f"CREATE DATABASE {self.quote_ident(name)}", "create databases",
                               grant_on or like_literal(name))
        return self.url.set(database=name)

    database_exists_sql = ""  # a query with :name, one row when the database exists (dialects with a server)

    def database_exists(self, name: str) -> bool:
        """Whether the server already has a database ``name`` (asked before anything drops one)."""
        if not self.database_exists_sql:
            raise NotImplementedError(f"{self.label} has no server to look for databases on")
        with self.server_connection() as conn:
            return conn.execute(text(self.database_exists_sql), {"name": name}).first() is not None

    def drop_database(self, name: str) -> None:
        with self.server_connection() as conn:
            self.run_on_server(conn, f"DROP DATABASE IF EXISTS {self.quote_ident(name)}", "drop databases",
                               like_literal(name))

    def run_on_server(self, conn: Connection, sql: str, what: str, grant_on: str) -> None:
        """``sql`` on the server; a refusal names the user, what it may not do and the grant that allows it."""
        try:
            run_verbatim(conn, sql)
        except DBAPIError as exc:
            reason = self.driver_reason(exc, self.url)
            if self.is_permission_denied(exc):
                who = self.url.username or "the connecting user"
                raise PrivilegeMissing(f"user {who} may not {what} on {endpoint(self.url)}: {sql} was refused "
                                       f"({reason})", hint=self.grant_hint(conn, grant_on)) from None
            raise DualpathError(f"{sql} failed on {endpoint(self.url)}: {reason}",
                                hint="see the server's message above") from None


def like_literal(name: str) -> str:
    """``name`` as a LIKE pattern matching itself only (``_`` and ``%`` escaped)."""
    return name.replace("\\", "\\\\").replace("_", "\\_").replace("%", "\\%")
