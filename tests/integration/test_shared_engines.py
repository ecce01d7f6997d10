"""One SQLAlchemy engine per URL and process, holding no connection between uses."""

from __future__ import annotations

from urllib.parse import quote

import pytest
import sqlalchemy as sa

from dualpath.engines import open_engine
from dualpath.engines.databases import SHARED_ENGINES, SharedEngines

pytestmark = pytest.mark.integration


def other_connections(url: str) -> int:
    """Connections to the test's own database, besides the one asking."""
    with open_engine(url).connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                        "AND pid <> pg_backend_pid()")).scalar_one())


def test_two_tenants_of_one_url_share_an_engine_and_park_no_connection(pg_url: str) -> None:
    url = f"{pg_url}?options={quote('-csearch_path=public')}"
    assert other_connections(pg_url) == 0  # the checker's own engine, made before counting
    made = SHARED_ENGINES.made
    first, second = open_engine(url), open_engine(url)  # two tasks' engines on one tenant
    with first.connect() as a:
        assert other_connections(pg_url) == 1
        seen = a.engine
    with second.connect() as b:
        assert b.engine is seen  # the dialect was initialised once
    assert SHARED_ENGINES.made == made + 1
    assert other_connections(pg_url) == 0  # NullPool: closed with its block, nothing parked
    with open_engine(f"{pg_url}?options={quote('-csearch_path=public,other')}").connect() as c:
        assert c.engine is not seen  # another URL (another tenant schema) is another engine
    assert SHARED_ENGINES.made == made + 2


def test_the_least_recently_used_engine_goes_first() -> None:
    shared = SharedEngines(2)
    make = lambda: sa.create_engine("sqlite://")  # noqa: E731
    a = shared.get(("E", "a"), make)
    shared.get(("E", "b"), make)
    assert shared.get(("E", "a"), make) is a  # a used again: b is now the oldest
    shared.get(("E", "c"), make)
    assert shared.get(("E", "a"), make) is a and shared.made == 3
    shared.get(("E", "b"), make)  # b was dropped: made again
    assert shared.made == 4
