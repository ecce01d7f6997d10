"""Least privilege in pre-flight, on real PostgreSQL and MariaDB: which role each tenant is migrated as; a
superuser or a role with server-wide powers is a warning naming the grants the run needs, a refusal on a
protected environment unless allow_superuser accepts it; a least-privilege role made by the test passes
quietly and the run's changes really go through as it (the derived grants are enough)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from dualpath.engines import open_engine
from dualpath.errors import TargetRefused
from dualpath.history import make_actor
from dualpath.tenants import TenantTarget, make_runner, migrate_tenant, open_environment, preflight_tenant, role_policy
from tests.integration.dbs import SERVERS
from tests.integration.test_verify_privileges import as_user, limited_user

SHOP = Path(__file__).resolve().parents[2] / "examples" / "shop" / "migrations"
BACKENDS = ["postgresql", "mysql"]


def preflight(tmp_path: Path, url: str, protected: bool = False, env_extra: str = "", top: str = "",
              lines: list[str] | None = None) -> object:
    """pre-flight of tenant "north" at ``url`` in environment "prod", as the flow's task runs it."""
    config = tmp_path / "dualpath.toml"
    config.write_text("\n".join([f'migrations = "{SHOP}"', top, "", "[environments.prod]",
                                 f"protected = {str(protected).lower()}", env_extra, "",
                                 "[[environments.prod.tenants]]", 'name = "north"', f'url = "{url}"', ""]))
    ctx = open_environment("prod", str(config))
    runner = make_runner(TenantTarget("north", url), ctx.settings, ctx.env, ctx.migrations,
                         make_actor("test", ctx.migrations), (lines if lines is not None else []).append)
    return preflight_tenant(runner, None, role_policy(ctx.settings, "prod", ctx.env)), runner


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def tenant(backend: str, request: pytest.FixtureRequest) -> Iterator[str]:
    from tests.integration.dbs import server_database

    with server_database(backend, request.node.name) as url:
        yield url


def test_a_superuser_is_named_and_warned_about_with_the_grants_the_run_needs(tenant: str, backend: str,
                                                                            tmp_path: Path) -> None:
    lines: list[str] = []
    found, _ = preflight(tmp_path, tenant, lines=lines)
    role = "postgres" if backend == "postgresql" else "'root'@'127.0.0.1'"
    assert found.role == f"tenant north is migrated as {role} (a superuser)"  # type: ignore[attr-defined]
    warning = found.role_warning  # type: ignore[attr-defined]
    assert warning and "allow_superuser = true in [environments.prod]" in warning
    database = make_url(tenant).database
    if backend == "postgresql":  # the shop creates tables, then alters and fills them: the creator owns them
        assert "only: CREATE ON SCHEMA public." in warning  # nothing else: the creator owns what it made
    else:
        assert f"CREATE ON {database}.*" in warning and f"ALTER ON {database}.orders, {database}.customers" in warning
        assert f"SELECT, UPDATE ON {database}.customers" in warning
    assert any(line.startswith("pre-flight: tenant north is migrated as") for line in lines), lines


def test_a_protected_environment_refuses_a_superuser_unless_accepted(tenant: str, backend: str,
                                                                    tmp_path: Path) -> None:
    with pytest.raises(TargetRefused) as refused:
        preflight(tmp_path, tenant, protected=True)
    assert "a superuser" in refused.value.message and "protected" in refused.value.message
    assert "allow_superuser = true in [environments.prod]" in (refused.value.hint or "")
    with open_engine(tenant).connect() as conn:  # nothing ran: not even dualpath's history tables
        assert list(open_engine(tenant).iter_tables(conn)) == []
    # accepted: per environment, or for every environment under [preflight]; still warned about
    found, _ = preflight(tmp_path, tenant, protected=True, env_extra="allow_superuser = true")
    assert found.role_warning  # type: ignore[attr-defined]
    found, _ = preflight(tmp_path, tenant, protected=True, top="[preflight]\nallow_superuser = true\n")
    assert found.role_warning  # type: ignore[attr-defined]
    # the environment's own setting wins over [preflight]'s
    with pytest.raises(TargetRefused):
        preflight(tmp_path, tenant, protected=True, env_extra="allow_superuser = false",
                  top="[preflight]\nallow_superuser = true\n")


def test_a_least_privilege_role_passes_and_the_run_goes_through_as_it(tenant: str, backend: str,
                                                                     tmp_path: Path) -> None:
    database = make_url(tenant).database or ""
    with limited_user(backend, database) as user:  # owns (PostgreSQL) / holds ALL ON (MariaDB) its database
        url = as_user(tenant, user)
        found, runner = preflight(tmp_path, url, protected=True)
        assert found.role_warning is None  # type: ignore[attr-defined]
        assert "(no server-wide powers)" in found.role  # type: ignore[attr-defined]
        assert migrate_tenant(runner, None)[-1] == "7"  # type: ignore[arg-type]


@contextmanager
def broad_user(backend: str, database: str) -> Iterator[str]:
    """Not a superuser, but with a power over the whole server: CREATEROLE; DROP ON *.*."""
    admin = open_engine(SERVERS[backend][1])
    with limited_user(backend, database) as user, admin.connect() as conn:
        grant = f'ALTER ROLE "{user}" CREATEROLE' if backend == "postgresql" else f"GRANT DROP ON *.* TO '{user}'@'%%'"
        conn.exec_driver_sql(grant)
        conn.commit()
        yield user


def test_a_role_with_server_wide_powers_is_warned_about(tenant: str, backend: str, tmp_path: Path) -> None:
    with broad_user(backend, make_url(tenant).database or "") as user:
        found, _ = preflight(tmp_path, as_user(tenant, user))
        power = "CREATEROLE" if backend == "postgresql" else "DROP ON *.*"
        assert found.role.endswith(f"(not a superuser, but holds {power}" + (  # type: ignore[attr-defined]
            " (creates and alters roles))" if backend == "postgresql" else ")"))
        assert "far more than this run needs" in found.role_warning  # type: ignore[attr-defined]
        with pytest.raises(TargetRefused):
            preflight(tmp_path, as_user(tenant, user), protected=True)


def test_sqlite_tenants_have_no_roles(tmp_path: Path) -> None:
    import sqlite3

    sqlite3.connect(tmp_path / "north.db").close()
    found, _ = preflight(tmp_path, f"sqlite:///{tmp_path / 'north.db'}", protected=True)
    assert found.role == "" and found.role_warning is None  # type: ignore[attr-defined]
