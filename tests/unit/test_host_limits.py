"""A database host's concurrency limit belongs to the host: which setting sizes it, and settings that disagree."""

from __future__ import annotations

from pathlib import Path

import pytest

from dualpath import config
from dualpath.config import load_settings, set_secret_resolver
from dualpath.errors import InputError
from dualpath.host_limits import differs, host_limits
from dualpath.tenants import resolve_tenants


def settings_from(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    path = tmp_path / "dualpath.toml"
    path.write_text(text)
    return load_settings(path)


ENVIRONMENTS = """
[environments.staging]
tenant_url_template = "postgresql://app@db1:5432/staging_{tenant}"
tenant_names = ["a", "b"]

[environments.prod]
tenant_url_template = "postgresql://app:{{ prefect.blocks.secret.prod-pw }}@DB1:5432/prod_{tenant}"
tenant_names = ["a"]
host_concurrency = 2

[environments.other]
tenant_url_template = "postgresql://app@db2:5432/o_{tenant}"
tenant_names = ["a"]
host_concurrency = 1
"""


def limits_of(settings, env: str) -> list[tuple[str, int, str]]:  # type: ignore[no-untyped-def]
    targets = resolve_tenants(settings.environments[env], "all")
    return [(limit.key, limit.slots, limit.source) for limit in host_limits(settings, env, targets)]


def test_without_a_hosts_entry_the_smallest_ask_of_any_environment_on_the_host_wins(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, ENVIRONMENTS)
    # staging asks for the default 4, prod (same server, spelled DB1, a secret in its password) for 2
    [(key, slots, source)] = limits_of(settings, "staging")
    assert (key, slots) == ("db-host:db1:5432", 2)
    assert source == "[environments.prod] host_concurrency = 2, the smallest of the 2 environments on db1:5432"
    assert limits_of(settings, "other")[0][1] == 1  # another server: its own environments only


def test_a_hosts_entry_sizes_the_host_and_an_environment_that_disagrees_is_an_input_error(
        tmp_path: Path, request: pytest.FixtureRequest) -> None:
    settings = settings_from(tmp_path, ENVIRONMENTS.replace("host_concurrency = 2\n", "")
                             + '\n[hosts."db1:5432"]\nconcurrency = 3\n')
    assert limits_of(settings, "staging") == [("db-host:db1:5432", 3, '[hosts."db1:5432"] concurrency = 3')]
    disagreeing = settings_from(tmp_path, ENVIRONMENTS + '\n[hosts."db1:5432"]\nconcurrency = 3\n')
    saved = list(config._secret_resolver)  # Prefect's, when tasks were imported in this process: put it back
    set_secret_resolver(lambda name: "pw")  # as inside a flow run: prod's own tenants resolve their secret
    request.addfinalizer(lambda: set_secret_resolver(saved[0] if saved else None))
    for env in ("staging", "prod"):  # whichever environment runs, the same error
        with pytest.raises(InputError) as caught:
            limits_of(disagreeing, env)
        assert caught.value.exit_code == 2
        assert '[hosts."db1:5432"] concurrency = 3 and [environments.prod] host_concurrency = 2 disagree' in \
            caught.value.message
        assert str(tmp_path / "dualpath.toml") in (caught.value.where or "") and caught.value.hint


@pytest.mark.parametrize("table,said", [
    ('[hosts."db1"]\nconcurrency = 2\n', '"db1" is not host:port'),
    ('[hosts."db1:5432"]\nconcurrency = 2\n[hosts."DB1:5432"]\nconcurrency = 3\n',
     '[hosts."db1:5432"] and [hosts."DB1:5432"] name the same server'),
    ('[hosts."db1:5432"]\nconcurrency = 0\n', "greater than or equal to 1"),
])
def test_a_bad_hosts_table_is_refused_at_load_naming_the_file(tmp_path: Path, table: str, said: str) -> None:
    with pytest.raises(InputError) as caught:
        settings_from(tmp_path, table)
    assert said in caught.value.message and caught.value.where == str(tmp_path / "dualpath.toml")


def test_a_tenant_whose_host_is_not_knowable_here_is_left_out_of_other_environments(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PROD_HOST", raising=False)
    settings = settings_from(tmp_path, ENVIRONMENTS.replace("@DB1:5432", "@${PROD_HOST}:5432"))
    assert limits_of(settings, "staging")[0][1] == 4  # prod's host is unknown without PROD_HOST: not counted


def test_an_existing_limit_that_differs_is_reported_never_changed() -> None:
    from dualpath.host_limits import HostLimit

    limit = HostLimit("db-host:db1:5432", 2, '[hosts."db1:5432"] concurrency = 2')
    assert differs(limit, 2) is None
    note = differs(limit, 4)
    assert note is not None and "db-host:db1:5432 already exists on the Prefect server with 4 slot(s)" in note
    assert "left as it is" in note and "prefect global-concurrency-limit update db-host:db1:5432 --limit 2" in note
    assert "inactive" in (differs(limit, 2, active=False) or "")
