"""`dualpath verify` judges every change whose rollback runs nothing, under the default policy too.

A missing down file, or one that is empty or only comments, is read under `[rollback] missing =
"irreversible"` (the default) as irreversible by policy: verify still applies the up, "runs" the down
(nothing), and compares the schema with before the up, saying "harmless" or what the change leaves. A
change its author marked `-- dualpath:irreversible` is applied only, as before.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.helpers import dialect_of, run_cli, write_config
from tests.integration.test_verify import shadows_of

pytestmark = pytest.mark.integration

INT = {"postgresql": "integer", "mysql": "INT", "sqlite": "INTEGER"}


def _folder(tmp_path: Path, dialect: str) -> Path:
    """golang-migrate: 2 and 4 have no down file, 3 a comment-only one, 5 is marked irreversible."""
    migrations = tmp_path / "migrations"
    migrations.mkdir()
    files = {
        "1_t.up.sql": f"CREATE TABLE t (id {INT[dialect]} PRIMARY KEY, name VARCHAR(20));",
        "1_t.down.sql": "DROP TABLE t;",
        "2_seed_[x].up.sql": "INSERT INTO t VALUES (1, '[x]');",
        "3_u.up.sql": f"CREATE TABLE u (id {INT[dialect]});",
        "3_u.down.sql": "-- This migration intentionally left blank\n",
        "4_idx.up.sql": "CREATE INDEX t_name ON t (name);",
        "5_marked.up.sql": '-- dualpath:irreversible reason="drops [legacy] data"\nDELETE FROM t WHERE id = 1;',
    }
    for name, text in files.items():
        (migrations / name).write_text(text + "\n")
    return migrations


def _verify(tmp_path: Path, url: str, migrations: Path, *extra: str) -> tuple[int, str]:
    config = write_config(tmp_path, url)  # no [rollback] section: the default policy
    result = run_cli("verify", "--config", str(config), "--url", "db", "--migrations", str(migrations), *extra)
    return result.exit_code, result.stdout


def test_no_op_rollbacks_are_judged_under_the_default_policy(any_url: str, tmp_path: Path) -> None:
    migrations = _folder(tmp_path, dialect_of(any_url))
    code, text = _verify(tmp_path, any_url, migrations, "--format", "json")
    assert code == 0, text
    report = json.loads(text)
    judged = {c["version"]: (c["ok"], c["no_rollback"], c["skipped_down"]) for c in report["changes"]}
    assert judged == {"1": (True, None, None), "2": (True, "harmless", None), "3": (True, "not harmless", None),
                      "4": (True, "not harmless", None), "5": (True, None, "drops [legacy] data")}
    leaves = {c["version"]: c["leaves"] for c in report["changes"]}
    assert leaves["2"] == [] and leaves["3"] == ["table u"]
    assert len(leaves["4"]) == 1 and leaves["4"][0].startswith("index ") and "t_name" in leaves["4"][0]
    assert shadows_of(any_url) == []


def test_the_text_report_names_what_is_left_and_keeps_square_brackets(any_url: str, tmp_path: Path) -> None:
    migrations = _folder(tmp_path, dialect_of(any_url))
    code, text = _verify(tmp_path, any_url, migrations)
    assert code == 0, text
    lines = text.splitlines()
    assert "2 seed [x]: round trip ok (no rollback: harmless)" in lines
    assert "3 u: round trip ok (no rollback: not harmless: leaves table u)" in lines
    assert any(line.startswith("4 idx: round trip ok (no rollback: not harmless: leaves index ") for line in lines)
    assert "5 marked: round trip ok (up only: drops [legacy] data)" in lines
    assert "no rollback, and the forward change is not harmless to leave:" in lines
