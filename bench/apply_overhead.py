"""Benchmark: per-migration overhead of `dualpath apply` against sqitch, Alembic, dbmate, Liquibase and
plain psql, and the time of `dualpath verify` (up → down → up on a shadow) over the same migrations.

    apt-get install -y sqitch libdbd-pg-perl        # a real peer (Debian package)
    npm install --prefix DIR dbmate liquibase       # dbmate (Go binary) and Liquibase 4.28 (needs Java)
    .venv/bin/python bench/apply_overhead.py [--npm DIR] [--migrations 500] [--rounds 3] [--quick]

The same generated corpus (create table, add column, add index, insert rows; see peers.py) is
applied to a fresh empty PostgreSQL database by each tool in its natural default mode:

- psql: `psql -X -q -v ON_ERROR_STOP=1 -f` of the concatenated files (autocommit; the physical limit),
- dualpath: `dualpath apply` of a Flyway folder (each change in its own transaction, history rows),
- sqitch: `sqitch deploy` of a plan with deploy/revert/verify scripts (each script BEGIN/COMMIT, as
  sqitch's own templates write them; one psql process per change),
- alembic: `alembic upgrade head` of revisions that each `op.execute()` their SQL file (the default
  env.py: one transaction around the whole upgrade),
- alembic-txn: the same with `transaction_per_migration=True` (not its default; shown for what one
  transaction per change costs, outside the goal),
- dbmate: `dbmate up` of `-- migrate:up/down` files (each in its own transaction, a schema_migrations row),
- liquibase: `liquibase update` of a formatted-SQL changelog (a JVM; its DATABASECHANGELOG rows).

A peer that is not installed is skipped with a note (bench/apply_peers.py also times rollback and
status, on MariaDB too).

Each round runs every tool once, in a rotated order, each on its own fresh database; the median
over rounds is reported, with per-migration overhead above psql: (tool - psql) / migrations.
Each tool is then re-run on its migrated database (nothing to do): that is its fixed cost, and
(total - re-run) / migrations its marginal cost per migration.
After each tool the schema (tables, columns, indexes, rows) must equal what the corpus says.
Writes bench/results/apply_overhead.json.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from apply_peers import NPM_INSTALL, dbmate_tool, liquibase_tool, npm_tool, on_path  # noqa: E402
from peers import (  # noqa: E402
    RESULTS,
    VENV_BIN,
    Migration,
    expected_counts,
    find_tool,
    generate_migrations,
    require_tool,
    schema_counts,
    scratch_pg,
    summary_row,
    timed,
    write_flyway,
    write_result,
)

OUT = RESULTS / "apply_overhead.json"
SQITCH_INSTALL = "apt-get install -y sqitch libdbd-pg-perl"
Tool = Callable[[Path, str], float]


def run_psql(work: Path, url: str) -> float:
    return timed(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", str(work / "all.sql")])


def run_dualpath(work: Path, url: str) -> float:
    return timed([str(VENV_BIN / "dualpath"), "apply", "--url", url, "--migrations", str(work / "flyway")],
                 cwd=work)


def run_sqitch(work: Path, url: str) -> float:
    env = {**os.environ, "SQITCH_FULLNAME": "Bench", "SQITCH_EMAIL": "bench@example.com"}
    return timed(["sqitch", "deploy", "--target", "db:pg:" + url.split(":", 1)[1]], cwd=work / "sqitch", env=env)


def run_alembic(work: Path, url: str, per_migration: bool = False) -> float:
    env = {**os.environ, "BENCH_URL": url.replace("postgresql://", "postgresql+psycopg://", 1),
           "BENCH_TX_PER_MIGRATION": "1" if per_migration else "0"}
    return timed([str(VENV_BIN / "alembic"), "upgrade", "head"], cwd=work / "alembic", env=env)


def run_alembic_txn(work: Path, url: str) -> float:
    """Not a default: Alembic with transaction_per_migration=True, to show what one transaction
    per change costs (dualpath and sqitch pay it by default; Alembic's default wraps them all in one)."""
    return run_alembic(work, url, per_migration=True)


def write_psql(work: Path, migrations: list[Migration]) -> None:
    (work / "all.sql").write_text("".join(m.up for m in migrations))


def write_sqitch(work: Path, migrations: list[Migration]) -> None:
    top = work / "sqitch"
    for sub in ("deploy", "revert", "verify"):
        (top / sub).mkdir(parents=True)
    (top / "sqitch.conf").write_text("[core]\n\tengine = pg\n\tplan_file = sqitch.plan\n\ttop_dir = .\n")
    plan = ["%syntax-version=1.0.0", "%project=bench", ""]
    for m in migrations:
        name = f"m{m.number:04d}_{m.name}"
        plan.append(f"{name} 2026-11-29T00:00:{m.number % 60:02d}Z Bench <bench@example.com> # {m.name}")
        (top / "deploy" / f"{name}.sql").write_text(f"-- Deploy bench:{name} to pg\n\nBEGIN;\n\n{m.up}\nCOMMIT;\n")
        (top / "revert" / f"{name}.sql").write_text(f"-- Revert bench:{name} from pg\n\nBEGIN;\n\n{m.down}\nCOMMIT;\n")
        (top / "verify" / f"{name}.sql").write_text(f"-- Verify bench:{name} on pg\n\nBEGIN;\n\n{verify_sql(m)}\n"
                                                    "ROLLBACK;\n")
    (top / "sqitch.plan").write_text("\n".join(plan) + "\n")


def verify_sql(m: Migration) -> str:
    """A sqitch verify script that fails if the change is not there (sqitch runs them on `sqitch verify`)."""
    kind, table = m.name.split("_", 1)
    if kind == "create":
        return f"SELECT id, name, created_at FROM {table} WHERE false;"
    if kind == "column":
        column = m.up.split("ADD COLUMN ")[1].split()[0]
        return f"SELECT {column} FROM {table} WHERE false;"
    if kind == "index":
        index = m.up.split()[2]
        return f"SELECT 1/count(*) FROM pg_indexes WHERE indexname = '{index}';"
    return f"SELECT 1/count(*) FROM {table};"


ALEMBIC_ENV = '''"""Alembic's generic env.py (online mode only): by default one transaction around the whole upgrade."""
import os

from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config
config.set_main_option("sqlalchemy.url", os.environ["BENCH_URL"])
connectable = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.",
                                 poolclass=pool.NullPool)
with connectable.connect() as connection:
    # the bench's "alembic-txn" run sets this: Alembic's documented option, off by default
    per_migration = os.environ.get("BENCH_TX_PER_MIGRATION") == "1"
    context.configure(connection=connection, target_metadata=None, transaction_per_migration=per_migration)
    with context.begin_transaction():
        context.run_migrations()
'''

ALEMBIC_REVISION = '''"""{name}"""
from pathlib import Path

from alembic import op

revision = "{rev}"
down_revision = {down}
branch_labels = None
depends_on = None
SQL = Path(__file__).resolve().parents[1] / "sql"


def upgrade():
    op.execute((SQL / "{rev}.up.sql").read_text())


def downgrade():
    op.execute((SQL / "{rev}.down.sql").read_text())
'''


def write_alembic(work: Path, migrations: list[Migration]) -> None:
    top = work / "alembic"
    (top / "versions").mkdir(parents=True)
    (top / "sql").mkdir()
    (top / "alembic.ini").write_text("[alembic]\nscript_location = .\n")
    (top / "env.py").write_text(ALEMBIC_ENV)
    (top / "script.py.mako").write_text("")
    down = "None"
    for m in migrations:
        rev = f"r{m.number:04d}"
        (top / "sql" / f"{rev}.up.sql").write_text(m.up)
        (top / "sql" / f"{rev}.down.sql").write_text(m.down)
        (top / "versions" / f"{rev}_{m.name}.py").write_text(ALEMBIC_REVISION.format(name=m.name, rev=rev, down=down))
        down = f'"{rev}"'


def build(work: Path, migrations: list[Migration]) -> None:
    write_psql(work, migrations)
    write_flyway(work / "flyway", migrations)
    write_sqitch(work, migrations)
    write_alembic(work, migrations)


def installed_peers(work: Path, migrations: list[Migration], npm: Path | None) -> dict[str, Tool]:
    """The peers found on this machine; each one missing is named with how to install it."""
    found: dict[str, Tool] = {}
    sqitch_ready = find_tool("sqitch") is not None and subprocess.run(
        ["perl", "-MDBD::Pg", "-e", "1"], capture_output=True).returncode == 0
    if sqitch_ready:
        found["sqitch"] = run_sqitch
    else:
        print(f"note: sqitch (or its Perl PostgreSQL driver) not installed, skipped ({SQITCH_INSTALL})", flush=True)
    if find_tool("alembic") is not None:
        found.update({"alembic": run_alembic, "alembic-txn": run_alembic_txn})
    else:
        print("note: alembic not installed, skipped (.venv/bin/pip install -e '.[dev]')", flush=True)
    dbmate = npm_tool(npm, ".bin", "dbmate") or on_path("dbmate")
    if dbmate is not None:
        found["dbmate"] = adapt(dbmate_tool("postgresql", work, migrations, dbmate).apply)
    else:
        print(f"note: dbmate not installed, skipped ({NPM_INSTALL})", flush=True)
    liquibase = npm_tool(npm, "liquibase", "dist", "liquibase", "liquibase") or on_path("liquibase")
    if liquibase is not None and find_tool("java") is not None:
        drivers = npm_tool(npm, "liquibase", "dist", "drivers")
        found["liquibase"] = adapt(liquibase_tool("postgresql", work, migrations, liquibase, drivers).apply)
    else:
        print(f"note: Liquibase (or Java) not installed, skipped ({NPM_INSTALL})", flush=True)
    return found


def adapt(apply: Callable[[str], float]) -> Tool:
    """A peer from bench/apply_peers.py (it wrote its own files) as a Tool of this benchmark."""
    return lambda work, url: apply(url)


def measure(tools: dict[str, Tool], work: Path, migrations: list[Migration],
            rounds: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Apply times per tool, and the time of the same command re-run on the migrated database
    (nothing to do: the tool's fixed cost of starting, reading its files and its history)."""
    want = expected_counts(migrations)
    times: dict[str, list[float]] = {name: [] for name in tools}
    reruns: dict[str, list[float]] = {name: [] for name in tools if name != "psql"}
    names = list(tools)
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]  # no tool always first on a warm cache
        for name in order:
            with scratch_pg(f"apply_{name}") as url:
                took = tools[name](work, url)
                got = schema_counts(url)
                again = tools[name](work, url) if name in reruns else None
            if got != want:
                sys.exit(f"{name} left a different schema: {got}, expected {want}")
            rerun_text = "" if again is None else f"   re-run (nothing to do) {again:.2f} s"
            print(f"  round {r + 1}: {name:<12} {took:8.2f} s{rerun_text}   {got}", flush=True)
            times[name].append(took)
            if again is not None:
                reruns[name].append(again)
    return times, reruns


def time_verify(work: Path, count: int) -> float:
    """`dualpath verify` of every change pending on an empty database: up, down, up on a shadow."""
    with scratch_pg("verify") as url:
        took = timed([str(VENV_BIN / "dualpath"), "verify", "--url", url, "--migrations", str(work / "flyway")],
                     cwd=work)
    print(f"  dualpath verify of {count} changes: {took:.2f} s", flush=True)
    return took


def summarize(count: int, totals: dict[str, float], verify_s: float | None) -> list[dict[str, Any]]:
    per = {name: (s - totals["psql"]) / count * 1000 for name, s in totals.items()}
    peers = [p for p in ("sqitch", "alembic", "dbmate", "liquibase") if p in per]
    rows = []
    for peer in peers:
        rows.append(summary_row(
            "apply_overhead", f"overhead per migration above psql, {count} migrations (ms)",
            f"{per['dualpath']:.2f}", f"{peer} {per[peer]:.2f}",
            per["dualpath"] / per[peer] if per[peer] > 0 else None,
            f"below {peer}", per["dualpath"] < per[peer]))
    if "alembic-txn" in per:
        rows.append(summary_row(
            "apply_overhead", "same, vs Alembic with transaction_per_migration=True (not its default; ms)",
            f"{per['dualpath']:.2f}", f"alembic-txn {per['alembic-txn']:.2f}",
            per["dualpath"] / per["alembic-txn"] if per["alembic-txn"] > 0 else None, "reported", None))
    rows.append(summary_row("apply_overhead", f"total apply of {count} migrations (s)", f"{totals['dualpath']:.2f}",
                            f"psql {totals['psql']:.2f}", totals["dualpath"] / totals["psql"], "reported", None))
    if verify_s is not None:
        rows.append(summary_row("verify", f"dualpath verify, up→down→up of {count} migrations (s)", f"{verify_s:.2f}",
                                f"dualpath apply {totals['dualpath']:.2f}", verify_s / totals["dualpath"],
                                "reported", None))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--migrations", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="50 migrations, 1 round")
    parser.add_argument("--no-verify", action="store_true", help="skip the dualpath verify timing")
    parser.add_argument("--npm", type=Path, default=os.environ.get("DUALPATH_BENCH_NPM"),
                        help="folder of `npm install --prefix DIR dbmate liquibase`")
    args = parser.parse_args()
    count, rounds = (50, 1) if args.quick else (args.migrations, args.rounds)
    require_tool("psql", "apt-get install -y postgresql-client")
    migrations = generate_migrations(count)
    tools: dict[str, Tool] = {"psql": run_psql, "dualpath": run_dualpath}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        build(work, migrations)
        tools.update(installed_peers(work, migrations, args.npm))
        print(f"applying {count} migrations, {rounds} round(s), each tool on a fresh database", flush=True)
        times, reruns = measure(tools, work, migrations, rounds)
        verify_s = None if args.no_verify else time_verify(work, count)
    totals = {name: statistics.median(t) for name, t in times.items()}
    fixed = {name: statistics.median(t) for name, t in reruns.items()}
    print(f"\n{'tool':<12}{'total s':>10}{'ms/migration':>14}{'overhead ms':>13}{'re-run s':>10}{'marginal ms':>13}")
    for name, s in totals.items():
        rerun = f"{fixed[name]:>10.2f}{(s - fixed[name]) / count * 1000:>13.2f}" if name in fixed else ""
        print(f"{name:<12}{s:>10.2f}{s / count * 1000:>14.2f}{(s - totals['psql']) / count * 1000:>13.2f}{rerun}")
    # the load says how far to trust the numbers: the machine should be quiet
    result = {"machine": platform.platform(), "load_average_1m": round(os.getloadavg()[0], 2),
              "quick": args.quick, "migrations": count, "rounds": rounds,
              "expected_schema": expected_counts(migrations),
              "tools": {name: {"total_s": round(s, 3), "runs_s": [round(x, 3) for x in times[name]],
                               "overhead_ms_per_migration": round((s - totals["psql"]) / count * 1000, 3),
                               **({"rerun_s": round(fixed[name], 3),
                                   "marginal_ms_per_migration": round((s - fixed[name]) / count * 1000, 3)}
                                  if name in fixed else {})}
                        for name, s in totals.items()},
              "verify_s": None if verify_s is None else round(verify_s, 3),
              "summary": summarize(count, totals, verify_s)}
    write_result(OUT, result)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
