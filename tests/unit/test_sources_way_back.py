"""Changes without a way back (no rollback file, or one that runs nothing), read as their own tool
reads them and then handled by the ``[rollback] missing`` policy: refuse, irreversible or allow."""

from __future__ import annotations

from pathlib import Path

import pytest

from dualpath.config import Settings
from dualpath.errors import InputError
from dualpath.sources import no_way_back, read_changes, way_back_report
from tests.unit.test_sources import write

# one folder per real-world shape of issue 14: (files, version of the change without a way back)
SHAPES = {
    # crates.io: diesel down.sql that is only a comment
    "diesel-comment-down": ({"2014_a/up.sql": "CREATE TABLE a (id int);",
                             "2014_a/down.sql": "-- This file intentionally left blank\n"}, "2014"),
    # diesel: a 0-byte down.sql
    "diesel-empty-down": ({"2014_a/up.sql": "CREATE TABLE a (id int);", "2014_a/down.sql": ""}, "2014"),
    # flipt: golang-migrate with .up.sql only
    "golang-up-only": ({"0_a.up.sql": "CREATE TABLE a (id int);"}, "0"),
    # peerdb, kestra, DSpace: Flyway without U files (undo is a paid feature)
    "flyway-no-undo": ({"V1__a.sql": "CREATE TABLE a (id int);"}, "1"),
    # supabase: dbmate with an empty '-- migrate:down'
    "dbmate-empty-down": ({"20240101000000_a.sql": "-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\n\n"},
                          "20240101000000"),
    "liquibase-no-rollback": ({"c.sql": "--liquibase formatted sql\n--changeset a:1\nCREATE TABLE a (id int);\n"},
                              "1.1"),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_refuse_names_the_setting(tmp_path: Path, shape: str) -> None:
    files, version = SHAPES[shape]
    with pytest.raises(InputError) as caught:
        read_changes(write(tmp_path, files), missing_rollbacks="refuse")
    assert caught.value.message.startswith(f"no rollback for version {version}")
    assert "[rollback] missing" in (caught.value.hint or "") and caught.value.where


@pytest.mark.parametrize("shape", SHAPES)
def test_irreversible_reads_the_change_as_marked_irreversible(tmp_path: Path, shape: str) -> None:
    files, version = SHAPES[shape]
    (change,) = read_changes(write(tmp_path, files), missing_rollbacks="irreversible")
    assert change.version == version and change.rollback == ()
    implied = change.irreversible
    assert implied is not None and '[rollback] missing = "irreversible"' in implied.args["reason"]
    assert Path(implied.file).is_file() and implied.line >= 1
    assert no_way_back(change) and no_way_back(change).startswith("irreversible")  # type: ignore[union-attr]


@pytest.mark.parametrize("shape", SHAPES)
def test_allow_reads_a_no_op_rollback(tmp_path: Path, shape: str) -> None:
    files, _ = SHAPES[shape]
    (change,) = read_changes(write(tmp_path, files), missing_rollbacks="allow")
    assert change.rollback == () and change.irreversible is None
    assert no_way_back(change) in ("no rollback (runs as a no-op)", "rollback runs nothing")


def test_the_policy_does_not_change_the_checksum(tmp_path: Path) -> None:
    """Switching the setting must not make applied changes look drifted."""
    folder = write(tmp_path, SHAPES["flyway-no-undo"][0])
    sums = {read_changes(folder, missing_rollbacks=p)[0].checksum for p in ("irreversible", "allow")}
    assert len(sums) == 1


def test_a_marked_change_and_a_real_rollback_are_left_alone(tmp_path: Path) -> None:
    write(tmp_path, {"V1__a.sql": '-- dualpath:irreversible reason="drops data"\nDROP TABLE a;',
                     "V2__b.sql": "CREATE TABLE b (id int);", "U2__b.sql": "DROP TABLE b;"})
    first, second = read_changes(tmp_path, missing_rollbacks="irreversible")
    assert first.irreversible is not None and first.irreversible.args == {"reason": "drops data"}
    assert no_way_back(first) == "irreversible: drops data" and no_way_back(second) is None


def test_report_lists_every_change_and_the_setting(tmp_path: Path) -> None:
    write(tmp_path, {"V1__a.sql": "SELECT 1;", "V2__b.sql": "SELECT 2;", "U2__b.sql": "SELECT 3;",
                     "V3__c.sql": "SELECT 4;", "U3__c.sql": "-- nothing"})
    lines = way_back_report(read_changes(tmp_path, missing_rollbacks="irreversible"), "irreversible")
    assert lines[0] == '2 change(s) without a way back ([rollback] missing = "irreversible"):'
    assert lines[1].startswith("  1 a: irreversible: no rollback (") and "V1__a.sql" in lines[1]
    assert lines[2].startswith("  3 c: irreversible: rollback runs nothing (") and "U3__c.sql" in lines[2]
    assert len(lines) == 3


def test_setting_defaults_to_irreversible_and_is_checked() -> None:
    assert Settings().rollback.missing == "irreversible"
    with pytest.raises(ValueError):
        Settings.model_validate({"rollback": {"missing": "sometimes"}})


def test_sqitch_missing_revert_follows_the_policy(tmp_path: Path) -> None:
    write(tmp_path, {"sqitch.plan": "%project=p\n\na 2024-01-01T00:00:00Z Me <me@x.org> # A\n",
                     "deploy/a.sql": "CREATE TABLE a (id int);"})
    with pytest.raises(InputError, match="revert/a.sql is missing") as caught:
        read_changes(tmp_path, missing_rollbacks="refuse")
    assert "[rollback] missing" in (caught.value.hint or "")
    (change,) = read_changes(tmp_path, missing_rollbacks="irreversible")
    assert change.irreversible is not None and change.extra["sqitch_name"] == "a"
