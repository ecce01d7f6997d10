"""`dualpath demo` as a user runs it after `pip install`: from the installed package (not the clone), from a
folder of its own, on its own throwaway Prefect server. Everything it made is gone afterwards: its temporary
folder, the PostgreSQL tenant databases, and it says that the printed Prefect link no longer answers."""

from __future__ import annotations

import uuid
from pathlib import Path

from dualpath.engines import open_engine
from tests.e2e.conftest import PG_SERVER
from tests.install_support import install_copy, run_installed
from tests.integration.dbs import require_server


def test_installed_demo_runs_from_another_folder_and_leaves_nothing_behind(tmp_path: Path) -> None:
    require_server("postgresql")
    target = install_copy(tmp_path / "install")
    elsewhere, scratch = tmp_path / "elsewhere", tmp_path / "tmp"
    elsewhere.mkdir()
    scratch.mkdir()
    base = f"dp_e2e_installed_{uuid.uuid4().hex[:6]}"
    url = PG_SERVER.rsplit("/", 1)[0] + f"/{base}"
    server = open_engine(PG_SERVER)
    try:
        # TMPDIR of its own: whatever the demo leaves in the temporary folder shows
        done = run_installed(target, ["demo", "--approve", "--url", url], cwd=elsewhere, TMPDIR=str(scratch))
        output = " ".join(done.stdout.split())
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
        assert "identical to the start" in output and "result: completed" in output
        assert "east version 7 up to date" in output
        assert "Prefect server stopped with the demo" in output and "--keep DIR" in output
        assert sorted(p.name for p in scratch.iterdir()) == []
        assert sorted(p.name for p in elsewhere.iterdir()) == []
        assert not any(server.database_exists(f"{base}_{tenant}") for tenant in ("north", "south", "east"))
    finally:
        for tenant in ("north", "south", "east"):
            server.drop_database(f"{base}_{tenant}")
