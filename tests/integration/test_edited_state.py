"""State edited behind dualpath's back is detected and named (issue 13, item 11): applied files deleted
or renamed, changes slotted below the last applied version, history a newer dualpath wrote."""

from __future__ import annotations

from pathlib import Path

from tests.integration.edited_support import CHANGES, cli, digest, execute, project, write_change
from tests.integration.helpers import status_json

PROTECTED = ('environment = "prod"', "[environments.prod]", "protected = true")


def test_an_applied_file_deleted_shows_missing_and_its_rollback_is_refused(any_url: str, tmp_path: Path) -> None:
    config = project(tmp_path, any_url, ("1", "2"))
    assert cli(config, "apply")[0] == 0
    for name in ("V2__gadgets.sql", "U2__gadgets.sql"):
        (tmp_path / "migrations" / name).unlink()

    states = status_json(config)
    assert [(s["version"], s["state"]) for s in states] == [("1", "applied"), ("2", "missing")]
    assert "V2__gadgets.sql" in str(states[1]["recorded_file"])

    write_change(tmp_path / "migrations", "3", *CHANGES["3"])
    code, output = cli(config, "apply")
    assert code == 0, output
    assert "version 2 gadgets is applied on the target but its file is gone" in output

    before = digest(any_url)
    code, output = cli(config, "rollback", "--steps", "2")  # 3, then 2: refused before 3 is touched
    assert code == 3, output
    assert "version 2 gadgets" in output and "V2__gadgets.sql" in output and "restore the file" in output
    assert digest(any_url) == before
    assert cli(config, "rollback", "--steps", "1")[0] == 0  # 3 has its file
    code, output = cli(config, "rollback", "--steps", "1")
    assert code == 3 and "its rollback cannot run" in output, output


def test_a_renamed_applied_file_is_not_applied_twice(sqlite_url: str, tmp_path: Path) -> None:
    config = project(tmp_path, sqlite_url, ("1", "2"))
    assert cli(config, "apply")[0] == 0
    folder = tmp_path / "migrations"
    (folder / "V2__gadgets.sql").rename(folder / "V5__gadgets.sql")
    (folder / "U2__gadgets.sql").rename(folder / "U5__gadgets.sql")
    before = digest(sqlite_url)
    code, output = cli(config, "apply")
    assert code == 3, output
    assert "version 5" in output and "same statements as version 2" in output and "renamed" in output
    assert digest(sqlite_url) == before


def test_a_renamed_description_is_warned_and_repair_records_it(sqlite_url: str, tmp_path: Path) -> None:
    config = project(tmp_path, sqlite_url, ("1", "2"))
    assert cli(config, "apply")[0] == 0
    folder = tmp_path / "migrations"
    (folder / "V2__gadgets.sql").rename(folder / "V2__gizmos.sql")
    (folder / "U2__gadgets.sql").rename(folder / "U2__gizmos.sql")
    code, output = cli(config, "apply")
    assert code == 0 and "applied as 'gadgets'" in output and "'gizmos'" in output, output
    code, output = cli(config, "repair")
    assert code == 0 and "re-recorded as 'gizmos'" in output, output
    code, output = cli(config, "apply")
    assert code == 0 and "renamed" not in output, output


def test_out_of_order_is_warned_refused_when_protected_and_allowed_by_setting(any_url: str, tmp_path: Path) -> None:
    config = project(tmp_path, any_url, ("1", "3"))
    assert cli(config, "apply")[0] == 0
    write_change(tmp_path / "migrations", "2", *CHANGES["2"])

    protected = project(tmp_path, any_url, ("1", "3"), **{f"l{i}": line for i, line in enumerate(PROTECTED)})
    before = digest(any_url)
    code, output = cli(protected, "apply", "--break-glass", "hotfix")
    assert code == 3, output
    assert "2 (" in output and "before version 3" in output and "out_of_order = true" in output
    assert digest(any_url) == before

    allowed = project(tmp_path, any_url, ("1", "3"), **{f"l{i}": line for i, line in enumerate(PROTECTED)},
                      apply="[apply]\nout_of_order = true")
    code, output = cli(allowed, "apply", "--break-glass", "hotfix")
    assert code == 0, output
    assert "warning: applying out of order: 2" in output
    assert [s["state"] for s in status_json(allowed)] == ["applied", "applied", "applied"]


def test_out_of_order_on_an_unprotected_target_is_a_warning(sqlite_url: str, tmp_path: Path) -> None:
    config = project(tmp_path, sqlite_url, ("1", "3"))
    assert cli(config, "apply")[0] == 0
    write_change(tmp_path / "migrations", "2", *CHANGES["2"])
    code, output = cli(config, "apply")
    assert code == 0 and "warning: applying out of order: 2" in output, output


def test_history_from_a_newer_dualpath_is_refused(any_url: str, tmp_path: Path) -> None:
    config = project(tmp_path, any_url, ("1", "2"))
    assert cli(config, "apply", "--to", "1")[0] == 0
    execute(any_url, "INSERT INTO dualpath_history (version, description, checksum, direction, applied_at, "
                     "applied_by, duration_ms, success, run_id) VALUES ('1', 'widgets', 'x', 'skipped', "
                     "'2030-01-01 00:00:00', 'future', 0, TRUE, 'future')")
    assert status_json(config)[0]["state"] == "unknown"
    before = digest(any_url)
    code, output = cli(config, "apply")
    assert code == 3 and "direction 'skipped'" in output and "newer dualpath" in output, output
    assert digest(any_url) == before


def test_a_history_column_it_does_not_know_is_refused(any_url: str, tmp_path: Path) -> None:
    config = project(tmp_path, any_url, ("1", "2"))
    assert cli(config, "apply", "--to", "1")[0] == 0
    execute(any_url, "ALTER TABLE dualpath_history ADD COLUMN tenant_tag VARCHAR(20)")
    code, output = cli(config, "apply")
    assert code == 3 and "tenant_tag" in output and "newer dualpath" in output, output
