"""Least privilege through the migrate flow on a real Prefect server: tenants reached as the PostgreSQL superuser
are refused by pre-flight on a protected environment (nothing changes), and accepted with allow_superuser, the
warning then in the run's notes (the report)."""

from __future__ import annotations

from pathlib import Path

import pytest

from dualpath.errors import TargetRefused
from tests.e2e.conftest import fingerprints, versions, write_config


def test_protected_environment_refuses_superuser_tenants_unless_accepted(prefect_api: str, pg_tenants: dict[str, str],
                                                                         tmp_path: Path) -> None:
    from dualpath.flows.migrate import migrate

    config = write_config(tmp_path, pg_tenants, protected=True)
    before = fingerprints(pg_tenants)
    with pytest.raises(TargetRefused) as caught:
        migrate(env="e2e", config=str(config), approve=True)
    assert "is migrated as postgres (a superuser)" in caught.value.message, caught.value.message
    assert "allow_superuser = true in [environments.e2e]" in (caught.value.hint or "")
    assert "CREATE ON SCHEMA public" in (caught.value.hint or "")
    assert fingerprints(pg_tenants) == before

    config = write_config(tmp_path, pg_tenants, protected=True, allow_superuser=True)
    result = migrate(env="e2e", config=str(config), approve=True, report_dir=str(tmp_path))
    assert result["outcome"] == "completed", result
    warned = [n for n in result["notes"] if "far more than this run needs" in n]
    assert len(warned) == len(pg_tenants), result["notes"]
    assert set(versions(pg_tenants).values()) == {"7"}
