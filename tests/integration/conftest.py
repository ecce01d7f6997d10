"""Fixtures: a fresh database per test on each server (see dbs.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.dbs import server_database, sqlite_database


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Everything under tests/integration needs the servers, marked or not.
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> Iterator[str]:
    with server_database("postgresql", request.node.name) as url:
        yield url


@pytest.fixture
def mysql_url(request: pytest.FixtureRequest) -> Iterator[str]:
    with server_database("mysql", request.node.name) as url:
        yield url


@pytest.fixture
def sqlite_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with sqlite_database(tmp_path, request.node.name) as url:
        yield url


@pytest.fixture(params=["postgresql", "mysql", "sqlite"])
def any_url(request: pytest.FixtureRequest) -> str:
    """The same test on each of the three engines."""
    fixture = {"postgresql": "pg_url", "mysql": "mysql_url", "sqlite": "sqlite_url"}[request.param]
    return str(request.getfixturevalue(fixture))
