"""What a session derives from its target before anything connects."""

from __future__ import annotations

import pytest

from dualpath.config import Settings
from dualpath.session import flyway_placeholders
from dualpath.urls import parse_url


@pytest.mark.parametrize(("url", "schema"), [
    ("postgresql://app@db/shop", "public"),
    ("mysql://app@db/shop", "shop"),  # a MySQL schema is its database
    ("mariadb://app@db/shop", "shop"),
    ("sqlite:///shop.db", "main"),
])
def test_flyway_default_schema_is_where_the_engine_puts_unqualified_names(url: str, schema: str) -> None:
    values = flyway_placeholders(Settings(), parse_url(url))
    assert values is not None and values["flyway:defaultSchema"] == schema
    assert values["flyway:database"] == ("shop.db" if url.startswith("sqlite") else "shop")
