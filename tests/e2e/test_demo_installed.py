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


def test_kept_demo_says_how_to_open_its_prefect_run_again_and_that_works(tmp_path: Path) -> None:
    """With --keep the demo's own Prefect server still stops with it; the printed command starts it again on
    its kept database, and the printed run link's flow run is there."""
    import os
    import re
    import signal
    import subprocess
    import sys
    import urllib.request

    from dualpath.flows.local import wait_healthy

    kept = tmp_path / "kept"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    done = subprocess.run([sys.executable, "-m", "dualpath.cli", "demo", "--approve", "--keep", str(kept)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    output = done.stdout
    [link] = re.findall(r"Prefect run: (http://127\.0\.0\.1:\d+/runs/flow-run/[0-9a-f-]{36})", output)
    [command] = re.findall(r"start it on its kept database: (PREFECT_HOME=\S+ PREFECT_SERVER_UI_API_URL=\S+ "
                           r"prefect server start --host 127\.0\.0\.1 --port \d+)", output)
    assert (kept / "dualpath.toml").is_file() and list(kept.glob("dualpath-report-demo-*.md"))
    port, run_id = re.search(r":(\d+)/runs/flow-run/(.+)$", link).groups()  # type: ignore[union-attr]
    log = (tmp_path / "server.log").open("wb")
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    server = subprocess.Popen(["bash", "-c", f"exec env PREFECT_SERVER_ANALYTICS_ENABLED=false {command}"],
                              env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_healthy(f"http://127.0.0.1:{port}/api/health", server, tmp_path / "server.log")  # type: ignore[arg-type]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/flow_runs/{run_id}", timeout=10) as reply:
            assert reply.status == 200 and run_id in reply.read().decode()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)
        log.close()
