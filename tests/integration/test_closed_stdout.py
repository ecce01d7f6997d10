"""`dualpath apply | head -1`: the reader of stdout leaves while changes are still to run. The apply must
go on to the end (stopping between two changes with an internal error left a release half-applied),
and `dualpath status | head` ends quietly with the shell's SIGPIPE code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from dualpath.urls import parse_url
from tests.integration.edited_support import write_change
from tests.integration.helpers import status_json, write_config

GATE = 424242  # an advisory lock the test holds: change 2 waits on it, so the test closes the pipe first


def _dualpath(config: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "dualpath.cli", *args, "--config", str(config), "--url", "db"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=config.parent)


def test_an_apply_whose_reader_leaves_still_applies_every_change(pg_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    write_change(folder, "1", "first", "CREATE TABLE first_t (id INT);\n", "DROP TABLE first_t;\n")
    write_change(folder, "2", "gated", f"SELECT pg_advisory_xact_lock({GATE});\nCREATE TABLE gated_t (id INT);\n",
                 "DROP TABLE gated_t;\n")
    write_change(folder, "3", "last", "CREATE TABLE last_t (id INT);\n", "DROP TABLE last_t;\n")
    config = write_config(tmp_path, pg_url)
    engine = create_engine(parse_url(pg_url), poolclass=NullPool)
    with engine.connect() as holder:
        holder.execute(text(f"SELECT pg_advisory_lock({GATE})"))
        run = _dualpath(config, "apply")
        assert run.stdout is not None
        first = run.stdout.readline()  # change 1 is told; change 2 now waits for the gate
        assert b"applied 1" in first, first
        run.stdout.close()  # the reader leaves before change 2's line is written
        holder.execute(text(f"SELECT pg_advisory_unlock({GATE})"))
    engine.dispose()
    _, errors = run.communicate(timeout=120)
    assert run.returncode == 0, errors.decode()
    assert b"internal error" not in errors and b"Traceback" not in errors
    assert [s["state"] for s in status_json(config)] == ["applied", "applied", "applied"]


def test_a_status_whose_reader_leaves_ends_quietly(pg_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "migrations"
    for n in range(1, 2001):  # far more than a pipe buffers (64 KiB): the reader's leaving is seen by a write
        write_change(folder, str(n), f"t{n}", f"CREATE TABLE t{n} (id INT);\n", f"DROP TABLE t{n};\n")
    config = write_config(tmp_path, pg_url)
    run = _dualpath(config, "status")
    assert run.stdout is not None
    assert run.stdout.readline()
    run.stdout.close()
    _, errors = run.communicate(timeout=120)
    assert run.returncode == 141, errors.decode()
    assert b"internal error" not in errors and b"Traceback" not in errors
