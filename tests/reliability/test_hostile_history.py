"""Hostile edits of dualpath's state, by hand, on every engine: files deleted or renamed, history rows
deleted or edited, the history table dropped, rows for versions that do not exist here or that a newer
dualpath wrote. Each is named with the right `next:` and, where refused, nothing in the schema changes."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.edited_support import cli, digest, execute, project
from tests.integration.helpers import status_json

Edit = Callable[[str, Path], None]


def _delete_file(url: str, folder: Path) -> None:
    (folder / "V2__gadgets.sql").unlink()
    (folder / "U2__gadgets.sql").unlink()


def _rename_file(url: str, folder: Path) -> None:
    (folder / "V2__gadgets.sql").rename(folder / "V7__gadgets.sql")
    (folder / "U2__gadgets.sql").rename(folder / "U7__gadgets.sql")


def _delete_row(url: str, folder: Path) -> None:
    execute(url, "DELETE FROM dualpath_history WHERE version = '2'")


def _edit_checksum(url: str, folder: Path) -> None:
    execute(url, "UPDATE dualpath_history SET checksum = 'edited' WHERE version = '2'")


def _edit_description(url: str, folder: Path) -> None:
    execute(url, "UPDATE dualpath_history SET description = 'renamed by hand' WHERE version = '2'")


def _drop_history(url: str, folder: Path) -> None:
    execute(url, "DROP TABLE dualpath_history")


def _future_version(url: str, folder: Path) -> None:
    execute(url, "INSERT INTO dualpath_history (version, description, checksum, direction, applied_at, applied_by, "
                 "duration_ms, success, run_id) VALUES ('99', 'from elsewhere', 'x', 'up', '2030-01-01 00:00:00', "
                 "'someone', 0, TRUE, 'elsewhere')")


def _future_direction(url: str, folder: Path) -> None:
    execute(url, "INSERT INTO dualpath_history (version, description, checksum, direction, applied_at, applied_by, "
                 "duration_ms, success, run_id) VALUES ('2', 'gadgets', 'x', 'squashed', '2030-01-01 00:00:00', "
                 "'dualpath 9', 0, TRUE, 'future')")


# edit, state of version 2 (or the version the edit is about) in status, then for apply and for rollback
# --steps 1: (exit code, words the output must hold); exit 0 = it runs, with a warning where one is due
CASES: dict[str, tuple[Edit, tuple[str, str], tuple[int, tuple[str, ...]], tuple[int, tuple[str, ...]]]] = {
    "file deleted": (_delete_file, ("2", "missing"),
                     (0, ("version 2 gadgets is applied on the target but its file is gone",)),
                     (3, ("version 2 gadgets", "V2__gadgets.sql", "restore the file"))),
    "file renamed": (_rename_file, ("2", "missing"),
                     (3, ("version 7", "same statements as version 2", "renamed")),
                     (3, ("version 2 gadgets", "V2__gadgets.sql", "restore the file"))),
    "history row deleted": (_delete_row, ("2", "unrecorded"),
                            (3, ("dualpath_audit records them applied", "2 (", "dualpath repair")),
                            (3, ("dualpath_audit records them applied", "dualpath repair"))),
    "checksum edited": (_edit_checksum, ("2", "drifted"),
                        (3, ("drift", "2 (", "dualpath repair")), (3, ("drift", "dualpath repair"))),
    "description edited": (_edit_description, ("2", "applied"),
                           (0, ("applied as 'renamed by hand'", "dualpath repair")), (0, ("rolled back 2",))),
    "history dropped": (_drop_history, ("1", "unrecorded"),
                        (3, ("dualpath_audit records them applied", "1 (", "2 (", "dualpath repair")),
                        (3, ("dualpath_audit records them applied", "dualpath repair"))),
    "future version": (_future_version, ("99", "missing"),
                       (0, ("version 99 from elsewhere is applied on the target but its file is gone",)),
                       (3, ("version 99", "restore the file"))),
    "newer dualpath row": (_future_direction, ("2", "unknown"),
                           (3, ("direction 'squashed'", "newer dualpath")),
                           (3, ("direction 'squashed'", "newer dualpath"))),
}


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_edit_is_named(case: str, any_url: str, tmp_path: Path) -> None:
    edit, (version, state), (apply_code, apply_words), (back_code, back_words) = CASES[case]
    config = project(tmp_path, any_url, ("1", "2"))
    assert cli(config, "apply")[0] == 0
    execute(any_url, "INSERT INTO widgets (id, name) VALUES (1, 'kept')")
    edit(any_url, tmp_path / "migrations")

    states = {s["version"]: s["state"] for s in status_json(config)}
    assert states.get(version) == state, states

    for command, code, words in (("apply", apply_code, apply_words), ("rollback", back_code, back_words)):
        before = digest(any_url)
        args = ("rollback", "--steps", "1") if command == "rollback" else ("apply",)
        exit_code, output = cli(config, *args)
        assert exit_code == code, f"{case} / {command}: {output}"
        assert "Traceback" not in output and "internal error" not in output, output
        for word in words:
            assert word in output, f"{case} / {command}: {word!r} not in {output}"
        if code == 3:
            assert "next:" in output, output
            assert digest(any_url) == before, f"{case} / {command}: the schema changed on a refusal"
    assert _kept(any_url), f"{case}: the row in widgets is gone"


def _kept(url: str) -> bool:
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    from dualpath.urls import parse_url

    engine = create_engine(parse_url(url), poolclass=NullPool)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT name FROM widgets")).all()
    engine.dispose()
    return [tuple(r) for r in rows] == [("kept",)]


def test_duplicate_versions_in_the_folder_are_named(any_url: str, tmp_path: Path) -> None:
    config = project(tmp_path, any_url, ("1", "2"))
    assert cli(config, "apply")[0] == 0
    folder = tmp_path / "migrations"
    (folder / "V2__copy.sql").write_text((folder / "V2__gadgets.sql").read_text())
    (folder / "U2__copy.sql").write_text((folder / "U2__gadgets.sql").read_text())
    before = digest(any_url)
    code, output = cli(config, "apply")
    assert code == 2 and "duplicate version 2" in output and "next:" in output, output
    assert digest(any_url) == before


def test_repair_after_a_deleted_history_row_restores_it_and_apply_goes_on(any_url: str, tmp_path: Path) -> None:
    config = project(tmp_path, any_url, ("1", "2", "3"))
    assert cli(config, "apply", "--to", "2")[0] == 0
    _drop_history(any_url, tmp_path / "migrations")
    code, output = cli(config, "repair")
    assert code == 0 and "history restored" in output, output
    assert [s["state"] for s in status_json(config)] == ["applied", "applied", "pending"]
    code, output = cli(config, "apply")
    assert code == 0 and "applied 3" in output, output
