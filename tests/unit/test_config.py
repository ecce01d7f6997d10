import re
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from dualpath.config import load_settings
from dualpath.errors import InputError, UsageError
from dualpath.target import resolve_target


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "dualpath.toml"
    path.write_text(text)
    return path


def test_named_target_interpolates_environment_late(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(_write(tmp_path, '[targets.prod]\nurl = "postgresql://app:${PGPASS}@db:5432/shop"\n'))
    assert "${PGPASS}" in settings.targets["prod"].url  # nothing resolved at load time
    monkeypatch.setenv("PGPASS", "hunter2")
    target = resolve_target(settings, "prod", None)
    assert target.url.password == "hunter2"
    assert target.url.drivername == "postgresql+psycopg"
    assert target.migrations == tmp_path / "migrations"


def test_missing_variable_names_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOPE_UNSET", raising=False)
    settings = load_settings(_write(tmp_path, '[targets.x]\nurl = "mysql://root:${NOPE_UNSET}@h/db"\n'))
    with pytest.raises(UsageError, match="NOPE_UNSET is not set"):
        resolve_target(settings, "x", None)


def test_default_in_interpolation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DBNAME_UNSET", raising=False)
    settings = load_settings(_write(tmp_path, '[targets.x]\nurl = "mariadb://root@h/${DBNAME_UNSET:-shop}"\n'))
    target = resolve_target(settings, "x", None)
    assert (target.url.database, target.url.drivername, target.dialect) == ("shop", "mysql+pymysql", "mysql")


def test_unknown_target_suggests_nearest(tmp_path: Path) -> None:
    settings = load_settings(_write(tmp_path, '[targets.staging]\nurl = "sqlite:///x.db"\n'
                                               '[targets.prod]\nurl = "sqlite:///y.db"\n'))
    with pytest.raises(UsageError) as info:
        resolve_target(settings, "stagign", None)
    assert "unknown target 'stagign'" in str(info.value) and "staging" in str(info.value)


def test_unknown_setting_is_an_input_error_naming_the_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "[safety]\nlock_timeout = 5\n")
    with pytest.raises(InputError) as info:
        load_settings(path)
    assert str(path) in str(info.value) and "safety.lock_timeout" in str(info.value)


def test_bad_toml_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not valid TOML"):
        load_settings(_write(tmp_path, "[targets\n"))


# issue 13.5: a generated password put into a URL through ${ENV} is a password, not URL syntax
NASTY = ["p@ss:w%rd/#?x", "a@b", "  lead and trail  ", "x&y=z+w", "pä$$wörd€", "%41%40", "100%", ":", "@"]


@pytest.mark.parametrize("secret", NASTY)
@pytest.mark.parametrize("template, read, shown", [
    ("postgresql://app:${DP_T_SECRET}@db.internal:5432/shop", lambda u: u.password, False),
    ("mysql://${DP_T_SECRET}:pw@[::1]:3306/shop", lambda u: u.username, True),  # a user name is no secret
    ("postgresql://app@db/shop?sslmode=require&password=${DP_T_SECRET}", lambda u: u.query["password"], False),
    ("mysql+pymysql://root@db/shop?passwd=${DP_T_SECRET}", lambda u: u.query["passwd"], False),
])
def test_env_values_in_a_urls_userinfo_and_query_are_percent_encoded(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, secret: str, template: str, read: Any, shown: bool) -> None:
    monkeypatch.setenv("DP_T_SECRET", secret)
    settings = load_settings(_write(tmp_path, f'[targets.prod]\nurl = "{template}"\n'))
    url = resolve_target(settings, "prod", None).url
    assert read(url) == secret
    assert url.database == "shop" and url.host in ("db.internal", "::1", "db")
    if not shown and len(secret) > 2:
        assert secret not in str(url) and quote(secret, safe="") not in str(url)


def test_a_whole_userinfo_from_env_keeps_its_colon(monkeypatch: pytest.MonkeyPatch) -> None:
    from dualpath.config import interpolate
    from dualpath.urls import parse_url

    monkeypatch.setenv("DP_T_CREDS", "app:p@ss/w")
    url = parse_url(interpolate("postgresql://${DP_T_CREDS}@db/shop", where="t"))
    assert (url.username, url.password, url.host) == ("app", "p@ss/w", "db")


def test_env_values_outside_userinfo_and_query_are_used_as_written(monkeypatch: pytest.MonkeyPatch) -> None:
    from dualpath.config import interpolate

    monkeypatch.setenv("DP_T_URL", "postgresql://u:p%40ss@h:5432/db")
    monkeypatch.setenv("DP_T_DIR", "/tmp/a b")
    assert interpolate("${DP_T_URL}", where="t") == "postgresql://u:p%40ss@h:5432/db"
    assert interpolate("sqlite:///${DP_T_DIR}/x.db", where="t") == "sqlite:////tmp/a b/x.db"
    assert interpolate("postgresql://u@${DP_T_HOST:-db}:5432/${DP_T_DB:-shop}", where="t") == \
        "postgresql://u@db:5432/shop"


@pytest.mark.parametrize("text, said", [
    ('ticket_pattern = "[A-Z+-("\n', "setting 'ticket_pattern': Value error, not a regular expression"),
    ("[safety]\nlock_timeout_ms = 99999999999999\n", "setting 'safety.lock_timeout_ms'"),
    ("[safety]\nstatement_timeout_ms = 2147483648\n", "setting 'safety.statement_timeout_ms'"),
    ("[safety]\nretry_backoff_ms = 99999999999\n", "setting 'safety.retry_backoff_ms'"),
    ("[safety]\nlock_retries = 1000\n", "setting 'safety.lock_retries'"),
])
def test_settings_a_run_would_trip_on_midway_are_refused_at_load(tmp_path: Path, text: str, said: str) -> None:
    """A run used them after its first statement (ticket_pattern when recording, back-off between retries)
    or at its first one (timeouts): refused input must be refused before anything runs."""
    with pytest.raises(InputError, match=re.escape(said)) as info:
        load_settings(_write(tmp_path, text))
    assert "dualpath.toml" in str(info.value)


def test_the_defaults_read_without_pydantic_are_the_models_defaults(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """dualpath/defaults.py answers the quick commands when no dualpath.toml is found: the same values as
    the models would give (they declare their fields with them; this holds the two together)."""
    from dualpath.config import Settings
    from dualpath.defaults import quick_settings, quick_settings_of

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DUALPATH_CONFIG", raising=False)
    plain = quick_settings(None)
    assert plain.full is None and not plain.protected
    assert plain == replace(quick_settings_of(Settings(root=tmp_path)), full=None)
    (tmp_path / "dualpath.toml").write_text("[safety]\nlock_timeout_ms = 5\n")
    found = quick_settings(None)
    assert found.full is not None and found.lock_timeout_ms == 5 and found.root == tmp_path.resolve()
