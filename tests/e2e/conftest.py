"""One real Prefect server per test session (per xdist worker), on a free loopback port, and PostgreSQL
tenant databases per test."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.dbs import database_name, require_server

PG_SERVER = os.environ.get("DUALPATH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
MIGRATIONS = Path(__file__).resolve().parents[2] / "examples" / "shop" / "migrations"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from dualpath.flows.local import drain_prefect_workers, start_server

    with start_server(tmp_path_factory.mktemp("prefect-home"), echo=lambda _line: None) as url:
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings(updates={PREFECT_API_URL: url}):
            yield url
            drain_prefect_workers()


@pytest.fixture
def pg_tenants(request: pytest.FixtureRequest) -> Iterator[dict[str, str]]:
    """Four empty PostgreSQL databases a, b, c, d for one test, dropped afterwards."""
    from dualpath.engines import open_engine

    require_server("postgresql")
    server = open_engine(PG_SERVER)
    # database_name's random suffix must survive the cut: two runs of one test never share databases
    base = f"{database_name(request.node.name)[:43]}_{secrets.token_hex(3)}"
    names = {t: f"{base}_{t}" for t in "abcd"}
    created: list[str] = []
    try:
        urls = {}
        for t, n in names.items():
            urls[t] = server.create_database(n).render_as_string(hide_password=False)
            created.append(n)
        yield urls
    finally:
        for n in created:
            server.drop_database(n)


def write_config(folder: Path, tenants: dict[str, str], extra: str = "", **env: object) -> Path:
    """A dualpath.toml with environment "e2e": canary a, then waves of 2, backups into ``folder``;
    ``extra`` is appended as is (e.g. a ``[slack]`` table)."""
    settings = {"canary": '["a"]', "wave_size": "2", "approval": '"irreversible"', "approval_timeout_s": "300",
                "backup_to": f'"file://{folder / "backups"}"'}
    settings.update({k: (f'"{v}"' if isinstance(v, str) else str(v).lower() if isinstance(v, bool) else str(v))
                     for k, v in env.items()})
    lines = [f'migrations = "{MIGRATIONS}"', "", "[environments.e2e]"]
    lines += [f"{k} = {v}" for k, v in settings.items()] + [""]
    for name, url in tenants.items():
        lines += ["[[environments.e2e.tenants]]", f'name = "{name}"', f'url = "{url}"', ""]
    path = folder / "dualpath.toml"
    path.write_text("\n".join(lines) + ("\n" + extra if extra else ""))
    return path


def fingerprints(tenants: dict[str, str]) -> dict[str, str]:
    from dualpath.engines import open_engine

    digests = {}
    for name, url in tenants.items():
        engine = open_engine(url)
        with engine.connect() as conn:
            digests[name] = engine.fingerprint(conn).digest
    return digests


def versions(tenants: dict[str, str]) -> dict[str, str | None]:
    from dualpath.config import Tenant
    from dualpath.tenants import read_version, tenant_from

    return {n: read_version(tenant_from(Tenant(name=n, url=u)), MIGRATIONS).version for n, u in tenants.items()}
