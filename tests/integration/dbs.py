"""Throw-away databases for integration tests: one per test, named after it, dropped afterwards.

A server that is down fails the test with what to run, rather than skipping it silently.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from dualpath.engines import open_engine
from dualpath.errors import ConnectionFailed

SERVICES = "/work/shared/services.sh"
SERVERS = {
    "postgresql": ("PostgreSQL", os.environ.get("DUALPATH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")),
    "mysql": ("MariaDB", os.environ.get("DUALPATH_TEST_MYSQL", "mysql://root@127.0.0.1:3306/mysql")),
}
_MAX_NAME = 60  # PostgreSQL keeps 63 bytes of a name, MySQL 64


def database_name(test_name: str) -> str:
    """dp_<test name>_<short random>: readable in a server's list, never colliding."""
    slug = re.sub(r"[^a-z0-9]+", "_", test_name.lower()).strip("_")
    suffix = secrets.token_hex(3)
    return f"dp_{slug[: _MAX_NAME - len(suffix) - 4]}_{suffix}"


def require_server(backend: str) -> None:
    """Fail (not skip) with the command that starts the servers."""
    label, url = SERVERS[backend]
    engine = open_engine(url)
    try:
        with engine.connect():
            pass
    except ConnectionFailed as exc:
        where = url.split("@", 1)[-1].split("/", 1)[0]
        pytest.fail(f"{label} is not reachable at {where} — run {SERVICES}\n({exc})", pytrace=False)


@contextmanager
def server_database(backend: str, test_name: str) -> Iterator[str]:
    """A fresh database on the server; yields its URL and drops it even if the test failed."""
    require_server(backend)
    server = open_engine(SERVERS[backend][1])
    url = server.create_database(database_name(test_name))
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        server.drop_database(url.database or "")


@contextmanager
def sqlite_database(folder: Path, test_name: str) -> Iterator[str]:
    """An empty SQLite file in ``folder``; yields its sqlite:/// URL."""
    path = folder / f"{database_name(test_name)}.db"
    engine = open_engine(f"sqlite:///{path}")
    engine.create_database(str(path))
    try:
        yield f"sqlite:///{path}"
    finally:
        engine.drop_database(str(path))
