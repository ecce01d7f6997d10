"""Benchmark: one rollout shared by 1, 2 and 4 process workers (``fan_out="deployments"``), against the
in-process path, on N schema tenants of one PostgreSQL database.

    .venv/bin/python bench/fanout_workers.py [--tenants 24] [--quick] [--worker-limit 2] [--workers 1,2,4]
        [--tenants-per-run 1,6]

A Prefect server on a PostgreSQL database of its own (as production runs it), the ``dualpath-process``
pool and the ``tenant-apply``/``tenant-rollback`` deployments deployed the documented way. For each
worker count: N fresh schemas ``tenant_000`` ... (empty), k ``prefect worker start --limit L`` processes
(each runs at most L tenant runs at once: k*L lanes), and the migrate flow run here with
``fan_out="deployments"``: canary first, then one wave of the rest, three small changes per tenant, host
limit ``--host-limit`` (8). The in-process row runs the same rollout in this process's threads.

With ``--tenants-per-run`` (default 1) each worker count is run once per value: a child apply run then
takes that many tenants of a wave (its process start paid once per group).

For each row: the flow's wall time, the apply phase (first child start to last child end, from the
Prefect API; for in-process the apply-tenant task runs), per-tenant cost (the mean duration of one
tenant's share of the runs: the runs' summed durations over the tenants, process start and imports included
for a child), and peak connections to the database
(pg_stat_activity every 20 ms). Every schema must end at version 3. Prints a table, writes
bench/results/fanout_workers.json. Not a test: the numbers depend on the machine and its load (a
child flow run is a new Python process: on a 2-CPU machine its start-up cost dominates).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from dualpath.engines import open_engine
from dualpath.flows.local import process_workers
from dualpath.urls import parse_url

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT / "bench"))  # peers, beside this file
RESULTS = ROOT / "bench" / "results" / "fanout_workers.json"

from peers import summary_row, write_result  # noqa: E402

SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASE = "dp_bench_fanout_workers"
CHANGES = {  # three small changes: what is measured is the fan-out, not the SQL
    "V1__create_items.sql": "CREATE TABLE items (id bigint PRIMARY KEY, name text);\n",
    "U1__create_items.sql": "DROP TABLE items;\n",
    "V2__add_item_label.sql": "ALTER TABLE items ADD COLUMN label text;\n",
    "U2__add_item_label.sql": "ALTER TABLE items DROP COLUMN label;\n",
    "V3__index_item_name.sql": "CREATE INDEX items_name ON items (name);\n",
    "U3__index_item_name.sql": "DROP INDEX items_name;\n",
}


def tenant_url(database_url: str, name: str) -> str:
    return f"{database_url}?options=-csearch_path%3Dtenant_{name}"


def fresh_tenants(names: list[str]) -> str:
    server = open_engine(SERVER)
    server.drop_database(DATABASE)
    url = server.create_database(DATABASE).render_as_string(hide_password=False)
    engine = create_engine(parse_url(url), poolclass=NullPool)
    with engine.begin() as conn:
        for name in names:
            conn.execute(text(f"CREATE SCHEMA tenant_{name}"))
    engine.dispose()
    return url


def write_config(folder: Path, database_url: str, names: list[str], host_limit: int) -> Path:
    migrations = folder / "migrations"
    migrations.mkdir(exist_ok=True)
    for file, sql in CHANGES.items():
        (migrations / file).write_text(sql)
    lines = [f"migrations = {json.dumps(str(migrations))}", "", "[environments.bench]",
             f"tenant_url_template = {json.dumps(tenant_url(database_url, '{tenant}'))}",
             f"tenant_names = {json.dumps(names)}", f"canary = {json.dumps(names[:1])}",
             f"wave_size = {len(names)}", f"host_concurrency = {host_limit}", "allow_superuser = true", ""]
    path = folder / "dualpath.toml"
    path.write_text("\n".join(lines))
    return path


class ConnectionSampler(threading.Thread):
    """Connections to the database every ~20 ms; keeps the peak."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0
        self.stop = threading.Event()

    def run(self) -> None:
        engine = create_engine(parse_url(SERVER), poolclass=NullPool, isolation_level="AUTOCOMMIT")
        query = text("SELECT count(*) FROM pg_stat_activity WHERE datname = :db AND pid <> pg_backend_pid()")
        with engine.connect() as conn:
            while not self.stop.is_set():
                self.peak = max(self.peak, int(conn.execute(query, {"db": DATABASE}).scalar() or 0))
                self.stop.wait(0.02)
        engine.dispose()


@contextlib.contextmanager
def prefect_on_postgres(home: Path) -> Iterator[str]:
    """A Prefect server on a PostgreSQL database created for it (dropped after)."""
    import psycopg

    from dualpath.flows.local import start_server

    database = f"prefect_bench_fanout_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    os.environ["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = \
        SERVER.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{database}"
    try:
        with start_server(home, echo=lambda line: print(line, flush=True)) as api:
            os.environ.pop("PREFECT_SERVER_DATABASE_CONNECTION_URL", None)
            yield api
    finally:
        os.environ.pop("PREFECT_SERVER_DATABASE_CONNECTION_URL", None)
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def forget_host_limit(database_url: str) -> None:
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    from dualpath.tenants import TenantTarget

    with get_client(sync_client=True) as client, contextlib.suppress(ObjectNotFound):
        client.delete_global_concurrency_limit_by_name(TenantTarget("any", database_url).concurrency_key)


def spans(parent_id: str, fan_out: str) -> list[tuple[float, float]]:
    """(start, end) of each tenant's apply: its child flow runs, or its apply-tenant task runs."""
    from uuid import UUID

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterId,
        FlowRunFilterParentFlowRunId,
        TaskRunFilter,
        TaskRunFilterName,
    )

    parent = FlowRunFilter(id=FlowRunFilterId(any_=[UUID(parent_id)]))
    with get_client(sync_client=True) as client:
        if fan_out == "deployments":
            runs: list[Any] = client.read_flow_runs(flow_run_filter=FlowRunFilter(
                parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[UUID(parent_id)])), limit=200)
        else:
            runs = client.read_task_runs(flow_run_filter=parent, limit=200,
                                         task_run_filter=TaskRunFilter(name=TaskRunFilterName(like_="apply-tenant")))
    return [(r.start_time.timestamp(), r.end_time.timestamp()) for r in runs if r.start_time and r.end_time]


def versions(database_url: str, names: list[str]) -> int:
    """How many schemas are at version 3 (their own history says so)."""
    with open_engine(database_url).connect() as conn:
        return sum(conn.exec_driver_sql(
            f"SELECT count(*) FROM tenant_{n}.dualpath_history WHERE version = '3' AND success").scalar() == 1
            for n in names)


def rollout(label: str, fan_out: str, names: list[str], host_limit: int, work: Path,
            per_run: int = 1) -> dict[str, Any]:
    from dualpath.flows.migrate import migrate

    database_url = fresh_tenants(names)
    forget_host_limit(database_url)
    config = write_config(work, database_url, names, host_limit)
    sampler = ConnectionSampler()
    sampler.start()
    started = time.perf_counter()
    try:
        result = migrate(env="bench", config=str(config), approve=True, approver="bench", fan_out=fan_out,
                         tenants_per_run=per_run)
    finally:
        wall = time.perf_counter() - started
        sampler.stop.set()
        sampler.join()
    found = spans(result["run_id"], fan_out)
    apply_s = max(e for _, e in found) - min(s for s, _ in found) if found else 0.0
    per_tenant = sum(e - s for s, e in found) / len(names) if found else 0.0
    row = {"mode": label, "fan_out": fan_out, "tenants_per_run": per_run, "tenants": len(names),
           "outcome": result["outcome"],
           "wall_s": round(wall, 2), "apply_phase_s": round(apply_s, 2), "per_tenant_s": round(per_tenant, 2),
           "tenant_runs": len(found), "peak_connections": sampler.peak,
           "at_version_3": versions(database_url, names)}
    print(f"  {label}: {row['outcome']}, wall {wall:.1f} s, apply phase {apply_s:.1f} s, per tenant "
          f"{per_tenant:.2f} s, peak connections {sampler.peak}, {row['at_version_3']}/{len(names)} at 3", flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenants", type=int, default=24)
    parser.add_argument("--quick", action="store_true", help="8 tenants, 1 and 2 workers")
    parser.add_argument("--workers", default="1,2,4", help="worker counts (default 1,2,4)")
    parser.add_argument("--worker-limit", type=int, default=2, help="tenant runs one worker runs at once (default 2)")
    parser.add_argument("--host-limit", type=int, default=8, help="the database host's concurrency limit (default 8)")
    parser.add_argument("--tenants-per-run", default="1", help="tenants per child apply run, a list (default 1)")
    args = parser.parse_args()
    groupings = [int(n) for n in args.tenants_per_run.split(",")]
    count = 8 if args.quick else args.tenants
    counts = [1, 2] if args.quick else [int(n) for n in args.workers.split(",")]
    names = [f"{i:03d}" for i in range(count)]
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="dualpath-fanout-workers-") as tmp:
        home = Path(tmp)
        results = home / "results"
        try:
            with prefect_on_postgres(home / "prefect") as api:
                from prefect.settings import PREFECT_API_URL, PREFECT_RESULTS_LOCAL_STORAGE_PATH, temporary_settings

                env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "PREFECT_API_URL": api,
                       "PREFECT_RESULTS_LOCAL_STORAGE_PATH": str(results), "PREFECT_WORKER_QUERY_SECONDS": "1",
                       "DUALPATH_HOME": str(ROOT)}
                for command in (["prefect", "work-pool", "create", "dualpath-process", "--type", "process"],
                                ["prefect", "--no-prompt", "deploy", "--name", "tenant-apply",
                                 "--name", "tenant-rollback"]):
                    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
                    if done.returncode:
                        sys.exit(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
                with temporary_settings(updates={PREFECT_API_URL: api, PREFECT_RESULTS_LOCAL_STORAGE_PATH: results}):
                    rows.append(rollout("in-process", "in-process", names, args.host_limit, home))
                    for k in counts:
                        with process_workers(env, home, k, "bench", args.worker_limit):
                            for g in groupings:
                                label = f"{k} worker(s)" + (f", {g}/run" if g > 1 else "")
                                rows.append(rollout(label, "deployments", names, args.host_limit, home, g))
                    from dualpath.flows.local import drain_prefect_workers

                    drain_prefect_workers()
        finally:
            open_engine(SERVER).drop_database(DATABASE)
    report = {"machine": platform.platform(), "cpus": os.cpu_count(), "tenants": count,
              "worker_limit": args.worker_limit, "host_limit": args.host_limit,
              "prefect_server": "PostgreSQL (asyncpg)", "runs": rows}
    print(f"\n{count} schema tenants, 3 changes each; workers run {args.worker_limit} tenant runs at once; "
          f"host limit {args.host_limit}; {os.cpu_count()} CPUs")
    header = f"{'mode':<20} {'wall s':>7} {'apply s':>8} {'s/tenant':>9} {'peak conn':>9} {'at 3':>6}"
    print(header + "\n" + "-" * len(header))
    for r in rows:
        print(f"{r['mode']:<20} {r['wall_s']:>7.1f} {r['apply_phase_s']:>8.1f} {r['per_tenant_s']:>9.2f} "
              f"{r['peak_connections']:>9} {r['at_version_3']:>3}/{count}")
    report["summary"] = summarize(rows)
    write_result(RESULTS, report)
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")


def summarize(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The summary contract (bench/peers.py): each worker count's wall time against one worker's with the same
    tenants per run, the goal being near-linear speed-up (issue 16 item 13), and each grouping against the
    in-process path."""
    one = {r.get("tenants_per_run", 1): r for r in rows if r["mode"].startswith("1 worker")}
    local = next((r for r in rows if r["mode"] == "in-process"), None)
    found = []
    for r in rows:
        base = one.get(r.get("tenants_per_run", 1))
        if r["fan_out"] != "deployments" or base is None:
            continue
        workers = int(r["mode"].split()[0])
        speed_up = base["wall_s"] / r["wall_s"]
        measure = f"{r['tenants']} tenants, {r['mode']}: wall (s)"
        found.append(summary_row("fanout_workers", measure, f"{r['wall_s']:.1f}",
                                 f"{base['mode']} {base['wall_s']:.1f}", speed_up, f"speed-up near {workers}x",
                                 speed_up >= 0.8 * workers))
    for base in one.values():
        if local is not None:
            found.append(summary_row("fanout_workers", f"per tenant, {base['mode']} vs in-process (s)",
                                     f"{base['per_tenant_s']:.2f}", f"in-process {local['per_tenant_s']:.2f}",
                                     base["per_tenant_s"] / local["per_tenant_s"], "reported", None))
    return found


if __name__ == "__main__":
    main()
