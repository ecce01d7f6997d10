"""Reliability suite: faults, kills and bad input against the real servers.

Everything under tests/reliability carries the ``reliability`` marker (``pytest -m reliability``)
and the ``integration`` marker, and reuses the per-test database fixtures of tests/integration.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.conftest import any_url, mysql_url, pg_url, sqlite_url

__all__ = ["any_url", "mysql_url", "pg_url", "sqlite_url"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.reliability)
            item.add_marker(pytest.mark.integration)
