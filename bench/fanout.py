"""Benchmark: the examples/shop release on N tenant schemas of one PostgreSQL database, sequential vs waves.

    .venv/bin/python bench/fanout.py [--tenants 200] [--quick] [--limit 8] [--wave-size 50]
                                     [--modes sequential,waves] [--prefect-db postgresql|sqlite]

N schemas ``tenant_000`` ... of one fresh database stand at yesterday's release (version 4, a few
customers and orders each, as in ``dualpath demo``). The release (5 expand, 6 backfill in batches,
7 the irreversible contract) is rolled out by the real fan-out path: the Prefect migrate flow
(``flows/migrate.py``, a throwaway local Prefect server), pre-flight, verified backups, canary
``tenant_000`` first, then waves, each tenant's apply occupying a slot of the host's global
concurrency limit. Twice, on freshly rebuilt schemas:

- sequential: one tenant per wave, host limit 1;
- waves: waves of ``--wave-size`` tenants under a host limit of ``--limit`` (8).

For each: the flow's wall time and its cost per tenant, the spans of its pre-flight, backup and
apply-tenant tasks (the last is the fan-out itself; read from the Prefect API), and the peak of
connections to the database (pg_stat_activity sampled every 20 ms from a thread) over the whole flow
and within the apply phase, against the server's max_connections. Afterwards every schema must be at
version 7 with its five customers backfilled. Prints a table, writes bench/results/fanout.json.
The Prefect server keeps its state in a fresh PostgreSQL database by default: on its SQLite file the
single writer answers 503 under a fan-out's load and every client call that meets it backs off ~2 s
(most of a tenant's cost, measured). Not a test: numbers depend on the machine (and on its load).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from dualpath import history
from dualpath.apply import Runner
from dualpath.config import Safety
from dualpath.engines import open_engine
from dualpath.sources import read_changes
from dualpath.target import Target
from dualpath.urls import parse_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))  # peers, beside this file
RESULTS = ROOT / "bench" / "results" / "fanout.json"

from peers import write_result  # noqa: E402

SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
DATABASE = f"dp_bench_fanout_cost_{os.getpid()}"  # unique: two benches on one server never share it
MIGRATIONS = ROOT / "examples" / "shop" / "migrations"
BASE, RELEASE = "4", "7"
SETUP_THREADS = 8
PREFECT_DATABASE = f"{DATABASE}_prefect"


def prefect_database(kind: str) -> bool:
    """The local Prefect server's database on the bench's PostgreSQL (fresh), through the environment the
    server starts with; False for Prefect's default SQLite file."""
    if kind != "postgresql":
        return False
    server = open_engine(SERVER)
    server.drop_database(PREFECT_DATABASE)
    url = server.create_database(PREFECT_DATABASE).set(drivername="postgresql+asyncpg")
    os.environ["PREFECT_SERVER_DATABASE_CONNECTION_URL"] = url.render_as_string(hide_password=False)
    return True


def tenant_names(count: int) -> list[str]:
    return [f"{i:03d}" for i in range(count)]


def tenant_url(database_url: str, name: str) -> str:
    return f"{database_url}?options=-csearch_path%3Dtenant_{name}"


# -- the tenants, fresh at the base version -------------------------------------------------


def fresh_database() -> str:
    server = open_engine(SERVER)
    server.drop_database(DATABASE)
    return server.create_database(DATABASE).render_as_string(hide_password=False)


def prepare_tenants(database_url: str, names: list[str]) -> float:
    """Drop every tenant schema, then build each at version 4 with five customers and orders; seconds taken."""
    started = time.perf_counter()
    engine = create_engine(parse_url(database_url), poolclass=NullPool)
    with engine.connect() as conn:
        schemas = [r[0] for r in conn.execute(text("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenant\\_%'"))]
    for schema in schemas:  # one transaction each: 200 schemas' objects in one exceed max_locks_per_transaction
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    with engine.begin() as conn:
        for name in names:
            conn.execute(text(f"CREATE SCHEMA tenant_{name}"))
    engine.dispose()
    with ThreadPoolExecutor(SETUP_THREADS) as pool:
        list(pool.map(lambda item: base_tenant(database_url, *item), enumerate(names, start=1)))
    return time.perf_counter() - started


def base_tenant(database_url: str, index: int, name: str) -> None:
    url = tenant_url(database_url, name)
    engine = open_engine(url)
    changes = read_changes(MIGRATIONS, dialect=engine.name)
    actor = history.make_actor(f"bench-setup-{name}", MIGRATIONS, "bench")
    target = Target(f"tenant_{name}", parse_url(url), MIGRATIONS, Safety())
    Runner(target, engine, changes, actor, echo=lambda _line: None).apply(to=BASE)
    with engine.connect() as conn, conn.begin():
        for i in range(1, 6):
            cid = index * 100 + i
            conn.execute(text("INSERT INTO customers (id, tenant_id, email, name) VALUES (:id, :t, :e, :n)"),
                         {"id": cid, "t": index, "e": f"c{cid}@shop.example", "n": f"Customer {cid}"})
            conn.execute(text("INSERT INTO orders (id, tenant_id, customer_id, total_cents) VALUES (:id, :t, :c, :s)"),
                         {"id": cid, "t": index, "c": cid, "s": 1000 + i})


def forget_host_limit(database_url: str) -> None:
    """Delete the server's ``db-host:`` limit, as an operator would to resize it: the next run creates it
    with its own ``host_concurrency`` (a run leaves an existing limit alone)."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    from dualpath.tenants import TenantTarget

    with get_client(sync_client=True) as client:
        try:
            client.delete_global_concurrency_limit_by_name(TenantTarget("any", database_url).concurrency_key)
        except ObjectNotFound:
            pass


def write_config(folder: Path, database_url: str, names: list[str], wave_size: int, limit: int) -> Path:
    lines = [f"migrations = {json.dumps(str(MIGRATIONS))}", "", "[environments.bench]",
             f"tenant_url_template = {json.dumps(tenant_url(database_url, '{tenant}'))}",
             f"tenant_names = {json.dumps(names)}", f"canary = {json.dumps(names[:1])}",
             f"wave_size = {wave_size}", f"host_concurrency = {limit}", 'approval = "irreversible"',
             f"backup_to = {json.dumps('file://' + str(folder / 'backups'))}", ""]
    path = folder / "dualpath.toml"
    path.write_text("\n".join(lines))
    return path


# -- watching the server ---------------------------------------------------------------------


class ConnectionSampler(threading.Thread):
    """Connections to the database (and client connections server-wide) every ~20 ms; keeps the peaks."""

    def __init__(self, database: str) -> None:
        super().__init__(daemon=True)
        self.database = database
        self.peak_database = 0
        self.peak_server = 0
        self.samples: list[tuple[float, int]] = []  # (epoch seconds, connections to the database)
        self.peak_made_of: list[tuple[str, str, str, int]] = []  # at the peak: application, state, query, count
        self.stop = threading.Event()

    def peak_between(self, start: float, end: float) -> int:
        return max((n for at, n in self.samples if start <= at <= end), default=0)

    def run(self) -> None:
        engine = create_engine(parse_url(SERVER), poolclass=NullPool, isolation_level="AUTOCOMMIT")
        query = text("SELECT count(*) FILTER (WHERE datname = :db), count(*) FROM pg_stat_activity "
                     "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()")
        breakdown = text("SELECT application_name, state, left(regexp_replace(query, '\\s+', ' ', 'g'), 70), "
                         "count(*) FROM pg_stat_activity WHERE datname = :db AND backend_type = 'client backend' "
                         "AND pid <> pg_backend_pid() GROUP BY 1, 2, 3 ORDER BY 4 DESC")
        with engine.connect() as conn:
            while not self.stop.is_set():
                here, everywhere = conn.execute(query, {"db": self.database}).one()
                if int(here) > self.peak_database:  # what the connections are, when there are most of them
                    self.peak_made_of = [tuple(r) for r in conn.execute(breakdown, {"db": self.database})]
                self.peak_database = max(self.peak_database, int(here))
                self.peak_server = max(self.peak_server, int(everywhere))
                self.samples.append((time.time(), int(here)))
                self.stop.wait(0.02)
        engine.dispose()


def max_connections() -> int:
    with open_engine(SERVER).connect() as conn:
        return int(conn.exec_driver_sql("SHOW max_connections").scalar() or 0)


# -- one rollout ------------------------------------------------------------------------------


def run_rollout(mode: str, database_url: str, names: list[str], wave_size: int, limit: int) -> dict[str, Any]:
    from dualpath.flows.migrate import migrate

    setup_s = prepare_tenants(database_url, names)
    forget_host_limit(database_url)  # a run never resizes a host's limit: the bench sets it per rollout
    with tempfile.TemporaryDirectory(prefix="dualpath-fanout-") as work:
        config = write_config(Path(work), database_url, names, wave_size, limit)
        sampler = ConnectionSampler(DATABASE)
        sampler.start()
        started = time.perf_counter()
        try:
            result = migrate(env="bench", config=str(config), approve=True, approver="bench")
        finally:
            wall = time.perf_counter() - started
            sampler.stop.set()
            sampler.join()
    first, last, tasks = apply_span(result["run_id"])
    phases = phase_spans(result["run_id"])
    fanout_s = last - first
    check = check_tenants(database_url, names)
    waves = max((t["wave"] for t in result["tenants"]), default=0)
    row = {"mode": mode, "tenants": len(names), "wave_size": wave_size, "host_concurrency": limit, "waves": waves,
           "outcome": result["outcome"], "wall_s": round(wall, 2), "fanout_s": round(fanout_s, 2),
           "per_tenant_wall_s": round(wall / len(names), 3), "per_tenant_apply_s": round(fanout_s / len(names), 3),
           "phases": phases,
           "apply_tasks": tasks, "peak_connections_database": sampler.peak_database,
           "peak_connections_apply_phase": sampler.peak_between(first, last),
           "peak_connections_server": sampler.peak_server, "samples": len(sampler.samples),
           "peak_made_of": [list(r) for r in sampler.peak_made_of],
           "setup_s": round(setup_s, 1), **check}
    print(f"  {mode}: {row['outcome']}, wall {wall:.1f} s, fan-out {fanout_s:.1f} s, peak connections "
          f"{sampler.peak_database} (apply phase {row['peak_connections_apply_phase']}, server "
          f"{sampler.peak_server}), {check['at_release']}/{len(names)} at version {RELEASE}", flush=True)
    for application, state, query, count in sampler.peak_made_of:
        print(f"    at the peak: {count:>3} {state or '-':<20} {application or '-':<40} {query}", flush=True)
    return row


def apply_span(flow_run_id: str, name: str = "apply-tenant") -> tuple[float, float, int]:
    """From the first ``name`` task's start to the last one's end (epoch seconds), as the Prefect
    server recorded them, and how many there were."""
    from uuid import UUID

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, TaskRunFilter, TaskRunFilterName

    runs: list[Any] = []
    with get_client(sync_client=True) as client:
        while True:
            page = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[UUID(flow_run_id)])),
                task_run_filter=TaskRunFilter(name=TaskRunFilterName(like_=name)),
                limit=200, offset=len(runs))
            runs += page
            if len(page) < 200:
                break
    spans = [(r.start_time, r.end_time) for r in runs if r.start_time and r.end_time]
    if not spans:
        return 0.0, 0.0, 0
    return min(s for s, _ in spans).timestamp(), max(e for _, e in spans).timestamp(), len(spans)


def phase_spans(flow_run_id: str) -> dict[str, float]:
    """Seconds from the first to the last task of each per-tenant phase."""
    spans = {}
    for phase in ("preflight-tenant", "backup-tenant", "apply-tenant"):
        first, last, _ = apply_span(flow_run_id, phase)
        spans[phase.split("-")[0] + "_s"] = round(last - first, 2)
    return spans


def check_tenants(database_url: str, names: list[str]) -> dict[str, Any]:
    """Every schema at the release (its own history says so), with its five customers backfilled."""
    from dualpath.tenants import TenantTarget, read_version

    def one(name: str) -> tuple[str | None, int]:
        version = read_version(TenantTarget(name, tenant_url(database_url, name)), MIGRATIONS).version
        with open_engine(tenant_url(database_url, name)).connect() as conn:
            filled = conn.execute(text("SELECT count(*) FROM customers WHERE display_name LIKE 'Customer %'")).scalar()
        return version, int(filled or 0)

    with ThreadPoolExecutor(SETUP_THREADS) as pool:
        found = list(pool.map(one, names))
    at_release = sum(v == RELEASE for v, _ in found)
    backfilled = sum(n == 5 for _, n in found)
    return {"at_release": at_release, "backfilled": backfilled,
            "correct": at_release == len(names) and backfilled == len(names)}


# -- report ----------------------------------------------------------------------------------


def print_table(report: dict[str, Any]) -> None:
    print(f"\ntenant fan-out: examples/shop {BASE} -> {RELEASE} on {report['tenants']} schemas of one "
          f"database, {report['server']}, max_connections {report['max_connections']}, Prefect server on "
          f"{report['prefect_database']}")
    header = (f"{'mode':<11} {'waves':>5} {'limit':>5} {'wall s':>8} {'s/tenant':>8} {'preflight':>9} "
              f"{'backup':>7} {'fan-out s':>9} {'peak conn':>9} {'in apply':>8} {'correct':>8}")
    print(header)
    print("-" * len(header))
    for r in report["runs"]:
        print(f"{r['mode']:<11} {r['waves']:>5} {r['host_concurrency']:>5} {r['wall_s']:>8.1f} "
              f"{r['per_tenant_wall_s']:>8.3f} {r['phases']['preflight_s']:>9.1f} {r['phases']['backup_s']:>7.1f} "
              f"{r['fanout_s']:>9.1f} {r['peak_connections_database']:>9} {r['peak_connections_apply_phase']:>8} "
              f"{str(r['correct']):>8}")
    if "speedup_wall" in report:
        print(f"speed-up: {report['speedup_wall']:.2f}x wall, {report['speedup_fanout']:.2f}x fan-out")


def summarize(report: dict[str, Any]) -> list[dict[str, Any]]:
    by_mode = {r["mode"]: r for r in report["runs"]}
    seq, waves = by_mode.get("sequential"), by_mode.get("waves")
    n = report["tenants"]
    row = {"benchmark": "tenant fan-out"}
    rows: list[dict[str, Any]] = []
    if seq:
        rows.append({**row, "measure": "cost per tenant, sequential (s): whole flow / apply phase",
                     "dualpath": f"{seq['per_tenant_wall_s']:.2f} / {seq['per_tenant_apply_s']:.2f}", "peer": None,
                     "ratio": None, "goal": "reported", "met": None})
    if waves:
        limit = waves["host_concurrency"]
        minutes = waves["wall_s"] * 1000 / n / 60
        rows += [
            {**row, "measure": f"whole migrate flow, {n} schemas, waves of {waves['wave_size']}, limit {limit} (s)",
             "dualpath": f"{waves['wall_s']:.1f} ({waves['per_tenant_wall_s']:.2f} s/tenant)",
             "peer": f"sequential {seq['wall_s']:.1f}" if seq else None,
             "ratio": f"{report['speedup_wall']:.2f}" if seq else None,
             "goal": "1,000 tenants < 10 min", "met": minutes < 10 and waves["correct"]},
            {**row, "measure": "peak connections to the database, whole flow / apply phase",
             "dualpath": f"{waves['peak_connections_database']} / {waves['peak_connections_apply_phase']}",
             "peer": f"sequential {seq['peak_connections_database']} / {seq['peak_connections_apply_phase']}"
             if seq else None, "ratio": None,
             "goal": f"< max_connections {report['max_connections']}; <= 3 per slot ({3 * limit}) in apply",
             "met": waves["peak_connections_database"] < report["max_connections"]
             and waves["peak_connections_apply_phase"] <= 3 * limit}]
    rows.append({**row, "measure": f"schemas at version {RELEASE} after each run",
                 "dualpath": ", ".join(f"{r['mode']} {r['at_release']}/{n}" for r in report["runs"]), "peer": None,
                 "ratio": None, "goal": "all", "met": all(r["correct"] for r in report["runs"])})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tenants", type=int, default=200, help="tenant schemas (default 200)")
    parser.add_argument("--quick", action="store_true", help="20 tenants")
    parser.add_argument("--limit", type=int, default=8, help="host concurrency limit of the waves run (default 8)")
    parser.add_argument("--wave-size", type=int, default=50, help="tenants per wave in the waves run (default 50)")
    parser.add_argument("--modes", default="sequential,waves",
                        help="the rollouts to run: sequential, waves or both (default both)")
    parser.add_argument("--prefect-db", choices=("postgresql", "sqlite"), default="postgresql",
                        help="the local Prefect server's database (default postgresql: on SQLite its single "
                             "writer answers 503 under a fan-out's load and clients back off ~2 s)")
    args = parser.parse_args()
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    if not modes or set(modes) - {"sequential", "waves"}:
        parser.error("--modes: sequential, waves or sequential,waves")
    count = 20 if args.quick else args.tenants
    if count < 2:
        parser.error("--tenants must be at least 2 (a canary and a wave)")
    names = tenant_names(count)

    from dualpath.flows.local import drain_prefect_workers, start_server

    database_url = fresh_database()
    prefect_db = prefect_database(args.prefect_db)
    try:
        with start_server(echo=lambda line: print(line, flush=True)) as api:
            from prefect.settings import PREFECT_API_URL, temporary_settings

            with temporary_settings(updates={PREFECT_API_URL: api}):
                settings = {"sequential": (1, 1), "waves": (args.wave_size, args.limit)}
                runs = [run_rollout(mode, database_url, names, *settings[mode]) for mode in modes]
                drain_prefect_workers()
        with open_engine(SERVER).connect() as conn:
            server = "postgresql " + conn.exec_driver_sql("SHOW server_version").scalar().split()[0]
    finally:
        open_engine(SERVER).drop_database(DATABASE)
        if prefect_db:
            os.environ.pop("PREFECT_SERVER_DATABASE_CONNECTION_URL", None)
            open_engine(SERVER).drop_database(PREFECT_DATABASE)
    by_mode = {r["mode"]: r for r in runs}
    seq, waves = by_mode.get("sequential"), by_mode.get("waves")
    report: dict[str, Any] = {
        "machine": platform.platform(), "server": server, "max_connections": max_connections(),
        "tenants": count, "quick": args.quick, "change": f"examples/shop {BASE} -> {RELEASE}",
        "path": "dualpath.flows.migrate.migrate (Prefect, local server)", "prefect_database": args.prefect_db,
        "load_average_1m": round(os.getloadavg()[0], 2),
        "wave_size": args.wave_size, "limit": args.limit, "runs": runs}
    if seq and waves:
        report["speedup_wall"] = round(seq["wall_s"] / waves["wall_s"], 2)
        report["speedup_fanout"] = round(seq["fanout_s"] / waves["fanout_s"], 2) if waves["fanout_s"] else 0.0
    print_table(report)
    report["summary"] = summarize(report)
    write_result(RESULTS, report)
    print(f"\nwrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
