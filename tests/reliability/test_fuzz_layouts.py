"""Mutated and random migration folders of every layout: the CLI explains, never crashes, never writes.

Each example starts from the valid two-change project of a layout (tests/unit/layouts.py) and
mutates it (truncated, dropped, duplicated or garbled lines, stray bytes, NUL, invalid UTF-8,
duplicate versions, missing halves, empty and huge files, unbalanced quotes and comments,
DELIMITER, bad sqitch plans, bad diesel metadata.toml), or is a folder of random files.
lint, status, plan, verify and apply then run against a real PostgreSQL database and
``fuzz_support.check_result`` holds each result to the contract.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import event, given

from tests.reliability.fuzz_support import (
    Files,
    Run,
    check_result,
    clean_database,
    exercise_project,
    fuzz_settings,
    layouts,
    log_example,
    mark_dirty,
    mutated_project,
    project_folder,
    random_project,
    snapshot,
    write_target_config,
)


@pytest.mark.parametrize("kind", layouts())
def test_mutated_layout_gets_an_explanation_never_a_crash(kind: str, pg_url: str) -> None:
    @fuzz_settings(8)
    @given(mutated_project(kind))
    def check(example: tuple[Files, list[str]]) -> None:
        files, mutations = example
        for name in mutations:
            event(f"mutation {name}")
        with project_folder(files) as root:
            codes = exercise_project(pg_url, root)
        log_example(f"layout:{kind}", {"mutations": mutations, **codes})
        event(f"outcome status={codes['status']} apply={codes['apply']}")

    check()


def test_random_files_get_an_explanation_never_a_crash(pg_url: str) -> None:
    @fuzz_settings(10)
    @given(random_project())
    def check(example: tuple[Files, list[str]]) -> None:
        with project_folder(example[0]) as root:
            codes = exercise_project(pg_url, root, verify=False)
        log_example("random-files", codes)
        event(f"outcome status={codes['status']} apply={codes['apply']}")

    check()


DUALPATH = Path(sys.executable).parent / "dualpath"


def _run_process(*args: str) -> Run:
    done = subprocess.run([str(DUALPATH), *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "COLUMNS": "200"})
    return Run(args[0], done.returncode, done.stdout + done.stderr)


@pytest.mark.parametrize("kind", ["flyway", "sqitch"])
def test_real_process_explains_bad_input(kind: str, pg_url: str) -> None:
    """The installed console script, not only the in-process app: same contract, as a user sees it."""
    assert DUALPATH.is_file(), f"{DUALPATH} is missing: run `pip install -e .[dev]` in the venv"

    @fuzz_settings(2)
    @given(mutated_project(kind))
    def check(example: tuple[Files, list[str]]) -> None:
        with project_folder(example[0]) as root:
            config = write_target_config(root, pg_url)
            empty = clean_database(pg_url)
            places = (str(root),)
            status = _run_process("status", "--config", str(config), "--url", "db")
            check_result(status, places=places)
            assert snapshot(pg_url) == empty, status.output
            mark_dirty(pg_url)
            apply = _run_process("apply", "--config", str(config), "--url", "db")
            check_result(apply, places=places)
            if apply.exit_code == 2:
                assert snapshot(pg_url) == empty, apply.output
        log_example(f"process:{kind}", {"status": status.exit_code, "apply": apply.exit_code})

    check()
