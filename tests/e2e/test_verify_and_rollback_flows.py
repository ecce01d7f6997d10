"""The verify and rollback flows against a real Prefect server and PostgreSQL tenants."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dualpath.errors import RunFailed, VerificationFailed
from tests.e2e.conftest import MIGRATIONS, fingerprints, versions, write_config


def apply_to(tenants: dict[str, str], version: str) -> None:
    from tests.integration.helpers import run_cli

    for url in tenants.values():
        result = run_cli("apply", "--url", url, "--migrations", str(MIGRATIONS), "--to", version)
        assert result.exit_code == 0, result.output


def test_verify_flow_round_trips_the_pending_changes_on_a_shadow(prefect_api: str, pg_tenants: dict[str, str],
                                                                 tmp_path: Path) -> None:
    from dualpath.flows.verify import verify

    before = fingerprints(pg_tenants)
    result = verify(env="e2e", config=str(write_config(tmp_path, pg_tenants)), to_version="6",
                    report_dir=str(tmp_path))
    assert result["ok"] and list(result["tenants"]) == ["a"]  # the canary stands for its schema
    assert [c["version"] for c in result["tenants"]["a"]["changes"]] == ["1", "2", "3", "4", "5", "6"]
    report = Path(result["report"]).read_text()
    assert "### a: round trip ok" in report and "| 3 | add order currency | ok |" in report
    assert fingerprints(pg_tenants) == before  # only the shadow was touched


def test_verify_flow_fails_on_a_rollback_that_does_not_undo_its_change(prefect_api: str, pg_tenants: dict[str, str],
                                                                       tmp_path: Path) -> None:
    from dualpath.flows.verify import verify

    folder = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, folder)
    (folder / "U3__add_order_currency.sql").write_text("SELECT 1;\n")  # forgets to drop the column
    with pytest.raises(VerificationFailed) as caught:
        verify(env="e2e", config=str(write_config(tmp_path, pg_tenants)), migrations=str(folder),
               tenants="b", report_dir=str(tmp_path))
    assert "version 3 (add order currency) does not round-trip on b" in caught.value.message
    report = next(tmp_path.glob("dualpath-verify-*.md")).read_text()
    assert "### b: **round trip FAILED**" in report and "| 3 | add order currency | **FAILED** |" in report


def test_rollback_flow_takes_every_tenant_back_to_a_version(prefect_api: str, pg_tenants: dict[str, str],
                                                            tmp_path: Path) -> None:
    from dualpath.flows.rollback import rollback

    apply_to(pg_tenants, "3")
    at_three = fingerprints(pg_tenants)
    apply_to(pg_tenants, "6")
    result = rollback(env="e2e", config=str(write_config(tmp_path, pg_tenants)), to_version="3",
                      report_dir=str(tmp_path))
    assert result["outcome"] == "rolled back"
    assert [t["name"] for t in result["tenants"]] == ["d", "b", "c", "a"]  # last wave first, canary last
    assert all(t["undone"] == ["6", "5", "4"] for t in result["tenants"])
    assert versions(pg_tenants) == dict.fromkeys("abcd", "3") and fingerprints(pg_tenants) == at_three
    assert "| a | rolled back | 6 | 6, 5, 4 | 3 |" in Path(result["report"]).read_text()


def test_rollback_flow_stops_before_an_irreversible_change(prefect_api: str, pg_tenants: dict[str, str],
                                                           tmp_path: Path) -> None:
    from dualpath.flows.rollback import rollback

    apply_to(pg_tenants, "7")
    with pytest.raises(RunFailed) as caught:
        rollback(env="e2e", config=str(write_config(tmp_path, pg_tenants)), to_version="5", tenants="a,b")
    assert "2 tenant(s) did not get there" in caught.value.message
    assert versions(pg_tenants) == dict.fromkeys("abcd", "7")


def test_rollback_flow_restores_a_backup_into_a_scratch_database(prefect_api: str, pg_tenants: dict[str, str],
                                                                 tmp_path: Path) -> None:
    from dualpath.backup import create_backup
    from dualpath.engines import open_engine
    from dualpath.flows.rollback import rollback
    from dualpath.urls import parse_url

    apply_to(pg_tenants, "4")
    manifest = create_backup(pg_tenants["a"], None, ["4"], f"file://{tmp_path / 'backups'}")
    scratch = parse_url(pg_tenants["a"]).set(database=parse_url(pg_tenants["a"]).database + "_r")
    into = scratch.render_as_string(hide_password=False)
    try:
        result = rollback(env="e2e", config=str(write_config(tmp_path, pg_tenants)), backup_id=manifest.backup_id,
                          tenants="a", restore_into=into, report_dir=str(tmp_path))
        assert result["outcome"] == "restored" and result["row_counts"]["customers"] == 0
        assert fingerprints({"r": into})["r"] == fingerprints({"a": pg_tenants["a"]})["a"]
        assert manifest.backup_id in Path(result["report"]).read_text()
        with pytest.raises(Exception, match="one tenant"):
            rollback(env="e2e", config=str(write_config(tmp_path, pg_tenants)), backup_id=manifest.backup_id)
    finally:
        open_engine(into).drop_database(scratch.database)
