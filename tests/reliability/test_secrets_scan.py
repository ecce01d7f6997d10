"""A demo-style run (examples/shop, PostgreSQL tenants reached with a password in their URLs, a Slack bot token)
through the migrate flow and the CLI; then every place a secret could end up is searched for it: zero hits.

Searched: each command's output and log records, the flow process's stdout/stderr, the run's Prefect logs,
artifacts and stored parameters, every request Slack received (its Authorization header aside), every file
under the project, report, backup and .dualpath folders (gzip and pg_dump archives opened), and the Prefect
server's own database file. A hit names the place."""

from __future__ import annotations

import gzip
import logging
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from typer.testing import CliRunner

from dualpath.cli import app
from tests.e2e.conftest import PG_SERVER
from tests.integration.dbs import require_server
from tests.reliability.flow_support import (
    PrefectServer,
    everything_stored,
    finish,
    pointed_at,
    read_run,
    run_artifacts,
    run_logs,
    shared_prefect,
    start_flow,
    wait_paused,
    wait_until_stored,
)
from tests.slack_recorder import recording_slack

__all__ = ["shared_prefect"]  # the fixture, imported to be used here

# '!' is written %21 in a URL: both forms are searched, and the random hex alone catches any other encoding
PASSWORD = f"Pw-{uuid.uuid4().hex}!"
TOKEN = f"xoxb-{uuid.uuid4().hex}"
NEEDLES = sorted({PASSWORD, quote(PASSWORD, safe=""), quote_plus(PASSWORD), PASSWORD[3:-1],
                  TOKEN, quote(TOKEN, safe=""), TOKEN[5:]})
APPROVAL = {"decision": "approve", "approver": "release-manager", "ticket": "SHOP-131", "comment": "go"}


@pytest.fixture(scope="module")
def server(shared_prefect: PrefectServer) -> Iterator[PrefectServer]:
    with pointed_at(shared_prefect) as started:
        yield started


class Haystack:
    """Every text and byte string a secret must not reach, by where it came from."""

    def __init__(self) -> None:
        self.places: list[tuple[str, bytes]] = []

    def add(self, where: str, content: str | bytes) -> None:
        self.places.append((where, content.encode("utf-8", "replace") if isinstance(content, str) else content))

    def hits(self) -> list[str]:
        return [f"{needle!r} in {where}" for where, data in self.places for needle in NEEDLES
                if needle.encode() in data]


def server_url(database: str) -> str:
    """PG_SERVER's host, reached as postgres with the password (the local server trusts loopback)."""
    host = PG_SERVER.split("@", 1)[1].rsplit("/", 1)[0]
    return f"postgresql://postgres:{quote(PASSWORD, safe='')}@{host}/{database}"


def cli(stack: Haystack, caplog: pytest.LogCaptureFixture, *args: str, expect: int = 0) -> str:
    caplog.clear()
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    name = " ".join(a for a in args[:3] if not a.startswith("postgresql"))
    stack.add(f"the output of `dualpath {name}`", result.output)
    stack.add(f"the log records of `dualpath {name}`", "\n".join(r.getMessage() for r in caplog.records))
    # expect -1: any failure reported as a dualpath error (exit 2 and up), not a crash
    ok = result.exit_code == expect or (expect == -1 and result.exit_code >= 2)
    assert ok, f"dualpath {name}: exit {result.exit_code}\n{result.output[-2000:]}"
    return result.output


def add_files(stack: Haystack, folder: Path, skip: set[Path]) -> int:
    """Every file under ``folder`` (raw bytes; gzip and pg_dump archives also opened); how many."""
    count = 0
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p not in skip):
        data = path.read_bytes()
        stack.add(str(path), data)
        if data[:2] == b"\x1f\x8b":
            stack.add(f"{path} (gunzipped)", gzip.decompress(data))
        if data[:5] == b"PGDMP":  # pg_dump -Fc: its data blocks are compressed; pg_restore writes them out as SQL
            stack.add(f"{path} (pg_restore -f -)", subprocess.run(["pg_restore", "-f", "-", str(path)],
                                                                  capture_output=True, check=True).stdout)
        count += 1
    return count


def test_no_password_or_token_anywhere_after_a_demo_run_through_the_flow_and_the_cli(
        server: PrefectServer, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from prefect.flow_runs import resume_flow_run

    from dualpath.demo import prepare_tenants, write_config
    from dualpath.engines import open_engine

    require_server("postgresql")
    caplog.set_level(logging.DEBUG)
    stack = Haystack()
    work, reports = tmp_path / "project", tmp_path / "reports"
    base = f"dp_scan_{uuid.uuid4().hex[:8]}"
    scratch = server_url(f"{base}_scratch")
    lines: list[str] = []
    work.mkdir()
    since = datetime.now(UTC) - timedelta(seconds=1)
    with recording_slack() as slack:
        try:
            tenants = prepare_tenants(work, server_url(base), lines.append)  # the demo's three shop tenants at V4
            config = write_config(work, tenants)
            unreachable = server_url(f"{base}_north").replace("@127.0.0.1:5432", "@127.0.0.1:1")
            config.write_text(config.read_text() + "\n".join([
                "", "[environments.broken]", 'approval = "never"', "",
                "[[environments.broken.tenants]]", 'name = "gone"', f'url = "{unreachable}"',
                "", "[slack]", f'bot_token = "{TOKEN}"', f'api_base_url = "{slack.api_url}"',
                'default_channel = "#db-migrations"', "timeout_s = 5"]) + "\n")
            # the migrate flow in its own process, paused for approval and resumed as the UI would
            name = f"scan-{uuid.uuid4().hex[:6]}"
            output = tmp_path / "flow-output.log"
            process = start_flow(server, name, {"env": "demo", "config": str(config), "report_dir": str(reports)},
                                 output)
            run = wait_paused(name, process, output)
            resume_flow_run(run.id, run_input=APPROVAL)
            flow_text = finish(process, output)
            assert process.returncode == 0 and "OUTCOME completed" in flow_text, flow_text[-3000:]
            # the CLI on the tenants and on a scratch database, each command that reads or writes a target
            open_engine(PG_SERVER).create_database(f"{base}_scratch")
            cfg = ("--config", str(config))
            cli(stack, caplog, "tenants", "--env", "demo", *cfg)
            cli(stack, caplog, "status", "--url", tenants["north"], *cfg)
            cli(stack, caplog, "status", "--url", tenants["north"], *cfg, "--format", "json")
            cli(stack, caplog, "plan", "--url", scratch, *cfg, "--to", "6")
            cli(stack, caplog, "apply", "--url", scratch, *cfg, "--to", "6")
            cli(stack, caplog, "validate", "--url", scratch, *cfg)
            cli(stack, caplog, "docs", "--out", str(work / "docs"), "--url", scratch, *cfg)
            cli(stack, caplog, "backup", "create", "--url", scratch, "--to", (work / "cli-backups").as_uri(), *cfg)
            cli(stack, caplog, "backup", "list", "--to", (work / "cli-backups").as_uri(), *cfg)
            cli(stack, caplog, "rollback", "--url", scratch, *cfg, "--to", "4")  # drops a column: backed up first
            # failures: nothing listens there; the errors name the target, and the failed flow run is stored too
            cli(stack, caplog, "status", "--url", unreachable, *cfg, expect=2)
            broken = cli(stack, caplog, "run", "--env", "broken", *cfg, "--approve", expect=-1)
            assert "error: tenant gone: cannot connect to PostgreSQL at 127.0.0.1:1" in broken, broken
            assert "Traceback" not in broken, broken  # Prefect logs an explained failure without one
        finally:
            server_engine = open_engine(PG_SERVER)
            for suffix in ("north", "south", "east", "scratch"):
                server_engine.drop_database(f"{base}_{suffix}")
    # the server writes logs and events in the background
    wait_until_stored(run_names=[name], prefix="migrate-broken-", since=since)

    stack.add("the demo's tenant lines", "\n".join(lines))
    stack.add("the flow process's stdout and stderr", flow_text)
    final = read_run(name)
    assert final.state.is_completed(), final.state
    stack.add("the flow run's stored parameters", repr(final.parameters))
    logs = run_logs(final.id)
    assert len(logs) > 20, logs
    stack.add("the Prefect logs of the run", "\n".join(logs))
    artifacts = run_artifacts(final.id)
    assert {"markdown", "table"} <= {a.type for a in artifacts}, artifacts
    for artifact in artifacts:
        stack.add(f"Prefect artifact {artifact.key or artifact.id}", f"{artifact.description}\n{artifact.data}")
    stored = everything_stored()  # the failed run of environment "broken" too, and anything else on the server
    assert any("migrate-broken" in where for where in stored) and len(stored["every Prefect log line"]) > 1000
    for where, text in stored.items():
        stack.add(where, text)
    assert len(slack.requests) >= 5 and {r.headers.get("Authorization") for r in slack.requests} == {f"Bearer {TOKEN}"}
    stack.add("the requests Slack received", slack.everything())
    files = sum(add_files(stack, folder, skip={config}) for folder in (work, reports))
    assert list(reports.glob("dualpath-report-demo-*.md")) and list((work / "backups").rglob("*")) \
        and list((work / ".dualpath").rglob("*")) and list((work / "cli-backups").rglob("*")), sorted(work.rglob("*"))
    for path in (server.database, Path(f"{server.database}-wal"), server.home / "server.log"):
        if path.exists():
            stack.add(f"the Prefect server's {path.name}", path.read_bytes())

    # the search works: it finds the secrets where they belong (the config file written by hand)
    assert PASSWORD.encode() in config.read_bytes() or quote(PASSWORD, safe="").encode() in config.read_bytes()
    assert TOKEN.encode() in config.read_bytes()
    assert files > 10 and len(stack.places) > 50, (files, len(stack.places))
    hits = stack.hits()
    assert not hits, "secrets leaked:\n" + "\n".join(hits)
