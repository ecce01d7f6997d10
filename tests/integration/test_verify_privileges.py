"""`dualpath verify` as a user who may not create databases: the refusal names the privilege and what to do,
and `[verify] shadow_url` lets such a user verify in an empty database they own — checked empty before,
emptied after, never the target, never a database holding anything."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from dualpath.engines import open_engine
from tests.integration.dbs import SERVERS, server_database
from tests.integration.helpers import dialect_of, run_cli, write_config
from tests.integration.test_verify import CREATE, NOTHING, _project, shadows_of

pytestmark = pytest.mark.integration

BACKENDS = ["postgresql", "mysql"]


def _admin(backend: str):  # type: ignore[no-untyped-def]
    return open_engine(SERVERS[backend][1])


@contextmanager
def limited_user(backend: str, *databases: str, own: bool = True) -> Iterator[str]:
    """A user without CREATE DATABASE who owns (PostgreSQL) or holds every privilege on (MariaDB) ``databases``
    (``own=False``: may only connect and read/insert); yields its name, dropped afterwards with what it owns."""
    name = f"dp_limited_{secrets.token_hex(3)}"
    admin = _admin(backend)
    with admin.connect() as conn:
        if backend == "postgresql":
            conn.exec_driver_sql(f'CREATE ROLE "{name}" LOGIN NOCREATEDB')
            for database in databases if own else ():
                conn.exec_driver_sql(f'ALTER DATABASE "{database}" OWNER TO "{name}"')
        else:
            conn.exec_driver_sql(f"CREATE USER '{name}'@'%%'")
            for database in databases:
                grant = "ALL PRIVILEGES" if own else "SELECT, INSERT"
                conn.exec_driver_sql(f"GRANT {grant} ON `{database}`.* TO '{name}'@'%%'")
        conn.commit()
    try:
        yield name
    finally:
        if backend == "postgresql":
            for database in databases:  # give back what it owns, so the role can go
                owned = open_engine(make_url(SERVERS[backend][1]).set(database=database))
                with owned.connect() as conn:
                    conn.exec_driver_sql(f'REASSIGN OWNED BY "{name}" TO CURRENT_USER')
                    conn.exec_driver_sql(f'DROP OWNED BY "{name}"')
                    conn.commit()
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{name}"')
                conn.commit()
        else:
            with admin.connect() as conn:
                conn.exec_driver_sql(f"DROP USER IF EXISTS '{name}'@'%%'")
                conn.commit()


def as_user(url: str, user: str) -> str:
    return make_url(url).set(username=user, password=None).render_as_string(hide_password=False)


@pytest.fixture(params=BACKENDS)
def limited(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """(target URL, empty shadow URL), both as a user without CREATE DATABASE."""
    backend = request.param
    with server_database(backend, request.node.name) as target, \
            server_database(backend, request.node.name + "_sh") as shadow:
        databases = [make_url(u).database or "" for u in (target, shadow)]
        with limited_user(backend, *databases) as user:
            yield as_user(target, user), as_user(shadow, user)


def _objects(url: str) -> list[str]:
    engine = open_engine(url)
    with engine.connect() as conn:
        return engine.user_objects(conn)


def _config(tmp_path: Path, target: str, shadow: str | None) -> Path:
    config = write_config(tmp_path, target)
    if shadow is not None:
        config.write_text(config.read_text() + f'[verify]\nshadow_url = "{shadow}"\n')
    return config


def test_without_create_database_the_error_names_the_privilege_and_what_to_do(
        limited: tuple[str, str], tmp_path: Path) -> None:
    target, _ = limited
    migrations = _project(tmp_path, dialect_of(target), CREATE[dialect_of(target)].replace("gadgets", "g2"),
                          "DROP TABLE g2;")
    result = run_cli("verify", "--config", str(_config(tmp_path, target, None)), "--url", "db",
                     "--migrations", str(migrations))
    assert result.exit_code == 2, result.output
    assert "internal error" not in result.output and "Traceback" not in result.output
    user = make_url(target).username
    assert f"user {user} may not create databases on 127.0.0.1:" in result.output
    assert "next: set [verify] shadow_url" in result.output
    grant = "CREATEDB" if dialect_of(target) == "postgresql" else "GRANT ALL PRIVILEGES ON `dp\\_shadow\\_"
    assert grant in result.output, result.output
    assert shadows_of(target) == []


def test_a_shadow_url_the_user_owns_verifies_and_is_emptied_again(limited: tuple[str, str], tmp_path: Path) -> None:
    target, shadow = limited
    dialect = dialect_of(target)
    migrations = _project(tmp_path, dialect, "CREATE INDEX gadgets_name_idx ON gadgets (name);",
                          "DROP INDEX gadgets_name_idx" + (" ON gadgets;" if dialect == "mysql" else ";"))
    result = run_cli("verify", "--config", str(_config(tmp_path, target, shadow)), "--url", "db",
                     "--migrations", str(migrations))
    assert result.exit_code == 0, result.output
    assert "2 change gadgets: round trip ok" in result.stdout
    assert _objects(shadow) == []  # emptied: the next verify finds it empty again
    assert _objects(target) == []  # the target was only read
    again = run_cli("verify", "--config", str(_config(tmp_path, target, shadow)), "--url", "db",
                    "--migrations", str(migrations))
    assert again.exit_code == 0, again.output


def test_a_failing_round_trip_still_empties_the_shadow(limited: tuple[str, str], tmp_path: Path) -> None:
    target, shadow = limited
    migrations = _project(tmp_path, dialect_of(target), "ALTER TABLE gadgets ADD COLUMN color VARCHAR(10);", NOTHING)
    result = run_cli("verify", "--config", str(_config(tmp_path, target, shadow)), "--url", "db",
                     "--migrations", str(migrations))
    assert result.exit_code == 1, result.output
    assert "gadgets.color" in result.output
    assert _objects(shadow) == []


def test_a_shadow_url_holding_anything_is_refused_and_left_as_it_was(limited: tuple[str, str],
                                                                     tmp_path: Path) -> None:
    target, shadow = limited
    engine = open_engine(shadow)
    with engine.connect() as conn:
        conn.exec_driver_sql("CREATE TABLE keepme (id INTEGER PRIMARY KEY)")
        conn.exec_driver_sql("INSERT INTO keepme VALUES (42)")
        conn.commit()
    migrations = _project(tmp_path, dialect_of(target), NOTHING, NOTHING)
    result = run_cli("verify", "--config", str(_config(tmp_path, target, shadow)), "--url", "db",
                     "--migrations", str(migrations))
    assert result.exit_code == 2, result.output
    assert "is not empty (table" in result.output and "keepme" in result.output
    assert "internal error" not in result.output
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT id FROM keepme").scalars().all() == [42]


def test_a_shadow_url_naming_the_target_is_refused_even_spelled_differently(
        limited: tuple[str, str], tmp_path: Path) -> None:
    target, _ = limited
    engine = open_engine(target)
    with engine.connect() as conn:
        conn.exec_driver_sql("CREATE TABLE precious (id INTEGER PRIMARY KEY)")
        conn.commit()
    same = make_url(target).set(host="localhost").render_as_string(hide_password=False)
    migrations = _project(tmp_path, dialect_of(target), NOTHING, NOTHING)
    result = run_cli("verify", "--config", str(_config(tmp_path, target, None)), "--url", "db",
                     "--migrations", str(migrations), "--shadow-url", same)
    assert result.exit_code == 2, result.output
    assert "is the target database itself" in result.output
    assert [o.replace("public.", "") for o in _objects(target)] == ["table precious"]


def test_an_empty_target_named_as_its_own_shadow_is_refused(pg_url: str, tmp_path: Path) -> None:
    """Emptiness alone would not catch it: the identity check does."""
    migrations = _project(tmp_path, "postgresql", NOTHING, NOTHING)
    result = run_cli("verify", "--config", str(_config(tmp_path, pg_url, pg_url)), "--url", "db",
                     "--migrations", str(migrations))
    assert result.exit_code == 2, result.output
    assert "is the target database itself" in result.output
    assert _objects(pg_url) == []


# -- siblings: other privileges a command needs, refused by the server ----------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_apply_without_create_table_privilege_names_the_grant(backend: str, request: pytest.FixtureRequest,
                                                             tmp_path: Path) -> None:
    with server_database(backend, request.node.name) as url:
        with limited_user(backend, make_url(url).database or "", own=False) as user:
            target = as_user(url, user)
            migrations = _project(tmp_path, backend, NOTHING, NOTHING)
            result = run_cli("apply", "--config", str(_config(tmp_path, target, None)), "--url", "db",
                             "--migrations", str(migrations))
    assert result.exit_code == 2, result.output
    assert "internal error" not in result.output
    assert f"user {user} may not create dualpath's tables (dualpath_history" in result.output
    grant = 'GRANT CREATE ON SCHEMA "public"' if backend == "postgresql" else "GRANT CREATE, ALTER, INDEX"
    assert grant in result.output, result.output


def test_no_privilege_on_the_history_table_is_explained_not_an_internal_error(pg_url: str,
                                                                             tmp_path: Path) -> None:
    migrations = _project(tmp_path, "postgresql", NOTHING, NOTHING)
    done = run_cli("apply", "--config", str(_config(tmp_path, pg_url, None)), "--url", "db",
                   "--migrations", str(migrations))
    assert done.exit_code == 0, done.output
    with limited_user("postgresql", make_url(pg_url).database or "", own=False) as user:
        result = run_cli("status", "--url", as_user(pg_url, user), "--migrations", str(migrations))
    assert result.exit_code == 2, result.output
    assert "internal error" not in result.output
    assert "the database refused: permission denied for table dualpath_history" in result.output
    assert "next: grant this user the privilege named above" in result.output
