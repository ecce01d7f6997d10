"""Disk full on the file:// backup destination (a 512 KiB tmpfs) while `dualpath apply` backs up
a table of a few MiB before dropping a column.

The drop is refused with the database untouched, the message names the destination and what to
do, nothing half-written is left on the small disk, and the same apply then succeeds once the
destination has room.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from dualpath.engines import open_engine
from tests.integration.helpers import run_cli, status_json, write_config
from tests.reliability.server_support import assert_no_crash, database_state, run_dualpath

ROWS = 1500  # x 2 KiB of random hex: ~3 MiB of data, well over 512 KiB even compressed


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 512 KiB tmpfs, unmounted afterwards. No mount means the test fails: it cannot prove anything."""
    folder = tmp_path / "small"
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(folder)],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.fail(f"cannot mount a 512k tmpfs at {folder} (needs root and CAP_SYS_ADMIN): "
                    f"{done.stderr.strip()}", pytrace=False)
    try:
        yield folder
    finally:
        if subprocess.run(["umount", str(folder)], capture_output=True, check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)


def project(folder: Path, url: str, destination: Path, work_dir: Path | None) -> Path:
    """Change 1 creates ``blobs`` (filled here, ~3 MiB); change 2 drops its data column."""
    migrations = folder / "migrations"
    migrations.mkdir()
    (migrations / "V1__create_blobs.sql").write_text("CREATE TABLE blobs (id INTEGER PRIMARY KEY, data TEXT);\n")
    (migrations / "U1__create_blobs.sql").write_text("DROP TABLE blobs;\n")
    (migrations / "V2__drop_data.sql").write_text("ALTER TABLE blobs DROP COLUMN data;\n")
    (migrations / "U2__drop_data.sql").write_text("ALTER TABLE blobs ADD COLUMN data TEXT;\n")
    config = write_config(folder, url)
    set_destination(config, destination, work_dir)
    first = run_cli("apply", "--config", str(config), "--url", "db", "--to", "1")
    assert first.exit_code == 0, first.output
    engine = open_engine(url)
    marker = "?" if engine.name == "sqlite" else "%s"
    with engine.connect() as conn:
        conn.exec_driver_sql(f"INSERT INTO blobs (id, data) VALUES ({marker}, {marker})",
                             [(i, os.urandom(1024).hex()) for i in range(1, ROWS + 1)])
        conn.commit()
    return config


def set_destination(config: Path, destination: Path, work_dir: Path | None) -> None:
    text = config.read_text()
    head = text.split("[backup]", 1)[0].split("[targets.db]", 1)[0]
    target = text.split("[targets.db]", 1)[1]
    backup = f"[backup]\ndestination = {json.dumps(destination.as_uri())}\n"
    if work_dir is not None:
        backup += f"work_dir = {json.dumps(str(work_dir))}\n"
    config.write_text(f"{head}{backup}[targets.db]{target}")


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_full_destination_refuses_the_drop_and_leaves_nothing(any_url: str, tmp_path: Path,
                                                              small_disk: Path) -> None:
    """The dump is staged in the system temp; copying it to the destination fills the disk."""
    check_full_disk(any_url, tmp_path, small_disk, staged_on_small_disk=False)


def test_dump_staged_on_a_full_disk_refuses_the_drop(pg_url: str, tmp_path: Path, small_disk: Path) -> None:
    """backup.work_dir on the small disk: pg_dump itself runs out of space while dumping."""
    check_full_disk(pg_url, tmp_path, small_disk, staged_on_small_disk=True)


def check_full_disk(any_url: str, tmp_path: Path, small_disk: Path, staged_on_small_disk: bool) -> None:
    work_dir = small_disk if staged_on_small_disk else None
    config = project(tmp_path, any_url, small_disk, work_dir)
    before = database_state(any_url)

    ran = run_dualpath("apply", "--config", str(config), "--url", "db", cwd=tmp_path)
    assert_no_crash(ran)
    assert ran.code == 3, ran.output
    assert "change(s) 2 not run" in ran.output and "next:" in ran.output
    if not staged_on_small_disk:
        assert "cannot write" in ran.output and small_disk.as_uri() in ran.output, ran.output
        assert "No space left on device" in ran.output, ran.output
    assert database_state(any_url) == before
    assert [s["state"] for s in status_json(config)] == ["applied", "pending"]
    assert files_under(small_disk) == [], "partial files left on the full disk"
    listed = run_cli("backup", "list", "--config", str(config))
    assert listed.exit_code == 0 and listed.output.strip() == "no backups", listed.output

    # the same run, with room: backed up, verified, applied
    roomy = tmp_path / "roomy"
    set_destination(config, roomy, None)
    again = run_dualpath("apply", "--config", str(config), "--url", "db", cwd=tmp_path)
    assert again.code == 0, again.output
    assert [s["state"] for s in status_json(config)] == ["applied", "applied"]
    backups = json.loads(run_cli("backup", "list", "--config", str(config), "--json").stdout)
    assert len(backups) == 1 and backups[0]["row_counts"]["blobs"] == ROWS
    assert backups[0]["artifacts"][0]["size"] > 512 * 1024  # it could never have fit on the small disk
    verified = run_cli("backup", "verify", "--config", str(config), "--id", backups[0]["backup_id"])
    assert verified.exit_code == 0, verified.output
