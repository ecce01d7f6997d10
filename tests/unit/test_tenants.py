"""Tenants: resolution from config, selection, waves, versions on SQLite files."""

from __future__ import annotations

from pathlib import Path

import pytest

from dualpath.config import Environment, Tenant
from dualpath.errors import UsageError
from dualpath.tenants import plan_waves, read_version, resolve_tenants

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "shop" / "migrations"


def env(**kwargs: object) -> Environment:
    return Environment.model_validate({"tenant_url_template": "sqlite:///${DP_T_DIR:-/tmp}/t_{tenant}.db",
                                       "tenant_names": ["a", "b", "c", "d", "e"], "canary": ["c"], **kwargs})


def test_template_tenants_with_canary_first_then_waves_of_n() -> None:
    waves = plan_waves(resolve_tenants(env()), 2)
    assert [[t.name for t in w] for w in waves] == [["c"], ["a", "b"], ["d", "e"]]


def test_selection_narrows_and_unknown_names_are_usage_errors() -> None:
    assert [t.name for t in resolve_tenants(env(), "b,d")] == ["b", "d"]
    with pytest.raises(UsageError) as caught:
        resolve_tenants(env(), "b,zz")
    assert "zz" in caught.value.message
    with pytest.raises(UsageError):
        resolve_tenants(Environment())


def test_urls_resolve_late_and_tenants_on_one_host_share_a_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    listed = Environment(tenants=[Tenant(name="x", url="postgresql://u:${DP_PW}@db1:5432/x"),
                                  Tenant(name="y", url="postgresql://u@db1/y")])
    x, y = resolve_tenants(listed)
    assert "${DP_PW}" in x.url  # not resolved until used
    monkeypatch.setenv("DP_PW", "s3cret")
    assert x.concurrency_key == y.concurrency_key == "db-host:db1:5432"
    assert "s3cret" not in x.label


def test_read_version_on_sqlite_tenants(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dualpath.apply import Runner
    from dualpath.config import Settings
    from dualpath.history import make_actor
    from dualpath.tenants import make_runner

    monkeypatch.setenv("DP_T_DIR", str(tmp_path))
    tenant = resolve_tenants(env(), "a")[0]
    runner: Runner = make_runner(tenant, Settings(), env(), EXAMPLE, make_actor("r1", EXAMPLE, "t"), lambda _: None)
    runner.engine.ensure_exists()
    runner.apply(to="3")
    version = read_version(tenant, EXAMPLE)
    assert (version.version, version.state) == ("3", "pending")
    assert version.pending == 4
    missing = read_version(resolve_tenants(env(tenant_url_template="sqlite:////nonexistent/dir/{tenant}.db"), "b")[0],
                           EXAMPLE)
    assert missing.state == "unreachable"


def test_an_environment_without_tenants_is_named_with_its_config_file(tmp_path: Path) -> None:
    from dualpath.config import environment, load_settings

    config = tmp_path / "dualpath.toml"
    config.write_text('[environments.staging]\nwave_size = 2\n')
    with pytest.raises(UsageError) as caught:
        resolve_tenants(environment(load_settings(config), "staging"))
    assert caught.value.where == f"{config} [environments.staging]"
