"""Rolling back everything (issue 14, item 9): `rollback --all` (alias `--to start`), a `--to` below
every change named as such, and the guard rails checked for the whole run before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.edited_support import CHANGES, cli, digest, project, write_change
from tests.integration.helpers import fingerprint, run_cli, status_json, write_config


def _tables(url: str) -> set[str]:
    return {name for name in fingerprint(url).objects.get("table", {}) if "dualpath" not in name}


@pytest.mark.parametrize("how", [("--all",), ("--to", "start")])
def test_rollback_all_undoes_every_change(any_url: str, tmp_path: Path, how: tuple[str, ...]) -> None:
    config = project(tmp_path, any_url)
    empty = digest(any_url)
    assert cli(config, "apply")[0] == 0
    code, output = cli(config, "rollback", *how)
    assert code == 0, output
    assert [line.split(" (")[0] for line in output.splitlines() if line.startswith("rolled back")] == [
        "rolled back 3 sprockets", "rolled back 2 gadgets", "rolled back 1 widgets"]
    assert digest(any_url) == empty
    assert [s["state"] for s in status_json(config)] == ["pending", "pending", "pending"]
    code, output = cli(config, "rollback", *how)
    assert code == 0 and "nothing to roll back" in output, output


def test_help_names_both_forms() -> None:
    text = run_cli("rollback", "--help").output
    assert "--all" in text and "--to start" in text


def test_all_does_not_combine_with_to_or_steps(sqlite_url: str, tmp_path: Path) -> None:
    config = project(tmp_path, sqlite_url)
    for extra in (("--steps", "1"), ("--to", "1")):
        code, output = cli(config, "rollback", "--all", *extra)
        assert code == 2, output
        assert "--all" in output and "next:" in output


def test_to_below_every_change_points_at_all(sqlite_url: str, tmp_path: Path) -> None:
    config = project(tmp_path, sqlite_url)
    assert cli(config, "apply")[0] == 0
    before = digest(sqlite_url)
    code, output = cli(config, "rollback", "--to", "0")
    assert code == 2, output
    assert "sorts before the first change" in output and "1 widgets" in output
    assert "--all" in output and "--to 1" in output
    assert digest(sqlite_url) == before


def test_diesel_initial_setup_version_zero(sqlite_url: str, tmp_path: Path) -> None:
    """diesel's 00000000000000 is a change like any other: --to 0 keeps it (it is that version), --all does not."""
    folder = tmp_path / "migrations"
    for name, up, down in (("00000000000000_diesel_initial_setup", "CREATE TABLE setup (id INT);",
                            "DROP TABLE setup;"),
                           ("2024-01-01-000000_widgets", "CREATE TABLE widgets (id INT);", "DROP TABLE widgets;")):
        (folder / name).mkdir(parents=True)
        (folder / name / "up.sql").write_text(up + "\n")
        (folder / name / "down.sql").write_text(down + "\n")
    config = write_config(tmp_path, sqlite_url)
    assert cli(config, "apply")[0] == 0

    code, output = cli(config, "rollback", "--to", "0")
    assert code == 0, output
    assert _tables(sqlite_url) == {"setup"}
    code, output = cli(config, "rollback", "--to", "0")
    assert code == 0, output
    assert "nothing to roll back" in output and "00000000000000" in output and "--all" in output

    code, output = cli(config, "rollback", "--all")
    assert code == 0, output
    assert _tables(sqlite_url) == set()


def test_an_irreversible_change_is_found_before_anything_runs(any_url: str, tmp_path: Path) -> None:
    config = project(tmp_path, any_url, ("1",))
    folder = tmp_path / "migrations"
    write_change(folder, "2", "gadgets", '-- dualpath:irreversible reason="drops legacy data"\n'
                 + CHANGES["2"][1], CHANGES["2"][2])
    write_change(folder, "3", *CHANGES["3"])
    write_change(folder, "4", "bolts", "CREATE TABLE bolts (id INT PRIMARY KEY);\n", "DROP TABLE bolts;\n")
    code, output = cli(config, "apply", "--break-glass", "test")
    assert code == 0, output
    before = digest(any_url)

    code, output = cli(config, "rollback", "--all")
    assert code == 3, output
    assert "version 2 is irreversible (drops legacy data)" in output and "nothing was rolled back" in output
    assert "rolled back" not in output.replace("nothing was rolled back", "")
    assert "dualpath rollback --to 2" in output and "2 change(s)" in output  # what can go back: 4 and 3
    assert digest(any_url) == before
    assert [s["state"] for s in status_json(config)] == ["applied"] * 4


def test_a_protected_environment_refuses_rollback_all(sqlite_url: str, tmp_path: Path) -> None:
    config = project(tmp_path, sqlite_url, l0='environment = "prod"', l1="[environments.prod]",
                     l2="protected = true")
    assert cli(config, "apply", "--break-glass", "first deploy")[0] == 0
    before = digest(sqlite_url)
    code, output = cli(config, "rollback", "--all")
    assert code == 3, output
    assert "`dualpath rollback --all` from a terminal is refused" in output
    assert digest(sqlite_url) == before


def test_rollback_all_backs_up_what_it_drops_before_anything_runs(pg_url: str, tmp_path: Path) -> None:
    config = project(tmp_path, pg_url)
    assert cli(config, "apply")[0] == 0
    code, output = cli(config, "rollback", "--all")
    assert code == 0, output
    lines = output.splitlines()
    backup = next(i for i, line in enumerate(lines) if "verified at file://" in line)
    first = next(i for i, line in enumerate(lines) if line.startswith("rolled back"))
    assert backup < first
    assert all(t in lines[backup] for t in ("widgets", "gadgets", "sprockets"))
