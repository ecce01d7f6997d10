"""The pieces of the quick status (dualpath/quick_status.py) that need no server: reading a URL without
SQLAlchemy exactly as SQLAlchemy reads it, or declining; the lazy package names."""

from __future__ import annotations

import pytest

from dualpath import history
from dualpath.engines.plain import parse_plain
from dualpath.history import plain
from dualpath.history.tables import audit_table, history_table
from dualpath.urls import parse_url


@pytest.mark.parametrize("text", [
    "postgresql://postgres@127.0.0.1:5432/app",
    "postgresql+psycopg://u:p%40ss%3Aw0rd@db.example.com:6432/app?sslmode=require&application_name=x",
    "postgres://u@[::1]:5432/app",
    "mysql://root:pw@127.0.0.1:3306/shop",
    "mariadb+pymysql://root@host/shop",
    "sqlite:///relative/file.db",
    "sqlite:////absolute/file.db",
])
def test_a_plain_url_reads_as_sqlalchemy_reads_it(text: str) -> None:
    mine, theirs = parse_plain(text), parse_url(text)
    assert mine is not None
    assert (mine.user, mine.password, mine.host, mine.port, mine.database) == (
        theirs.username, theirs.password, theirs.host, theirs.port, theirs.database or "")
    assert mine.query == dict(theirs.query)


@pytest.mark.parametrize("text", [
    "postgresql+asyncpg://u@h/db",  # a driver dualpath does not ship
    "oracle://u@h/db",
    "postgresql://u@h:notaport/db",
    "postgresql://u@h/db?a=1&a=2",  # SQLAlchemy makes a list of it
    "postgresql://u@h/db#fragment",
])
def test_anything_unusual_is_left_to_the_usual_path(text: str) -> None:
    assert parse_plain(text) is None


def test_the_password_is_not_in_the_parts_repr() -> None:
    parsed = parse_plain("postgresql://u:hunter2@h/db")
    assert parsed is not None and "hunter2" not in repr(parsed)


def test_the_history_package_lists_every_lazy_name_and_each_resolves() -> None:
    assert sorted(history.__all__) == sorted(history._MODULE_OF)
    for name in history.__all__:
        assert getattr(history, name) is not None
    with pytest.raises(AttributeError):
        history.no_such_name  # noqa: B018


def test_the_plain_reader_names_dualpaths_tables() -> None:
    assert (plain.HISTORY, plain.AUDIT) == (history_table.name, audit_table.name)


def test_the_plain_reader_knows_every_table_and_history_column() -> None:
    from dualpath.history.tables import _ATTEMPT_TABLES, history_table, metadata

    assert sorted(plain.TABLES) == sorted(t.name for t in metadata.sorted_tables)
    assert plain.HISTORY_COLUMNS == tuple(c.name for c in history_table.columns)
    assert plain.ATTEMPT_TABLES == tuple(t.name for t in _ATTEMPT_TABLES)
    assert all("attempt" in metadata.tables[name].c for name in plain.ATTEMPT_TABLES)


def test_the_plain_run_lock_key_is_the_engines() -> None:
    from dualpath.engines.postgres import engine
    from dualpath.engines.postgres import plain as pg_plain

    assert engine.advisory_key is pg_plain.advisory_key
