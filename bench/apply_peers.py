"""Benchmark: apply, rollback and status speed of dualpath against the tools a team would use instead,
on PostgreSQL and MariaDB, measured side by side in one run.

    npm install --prefix /some/dir dbmate liquibase      # the npm peers (Liquibase 4.28 needs Java)
    .venv/bin/python bench/apply_peers.py [--npm /some/dir] [--engines postgresql,mariadb]
        [--pg-changes 500] [--mariadb-changes 352] [--rounds 3] [--quick] [--compare-with DIR]

The generated corpus of bench/peers.py (one small change per migration: create table, add column,
add index, insert rows; every change with its down) is written in each tool's layout and applied to
a fresh empty database, then rolled back to empty, by each tool in its natural default mode:

- client per file: `psql -f` / `mariadb < file` started once per migration file, downs in reverse
  (what "run the files by hand" costs: no history, no journal);
- client, one file: the same SQL concatenated, one process (the physical floor);
- dbmate (a Go binary): `dbmate up`, then `dbmate rollback` once per migration (it rolls back one);
- Liquibase 4.28 (JVM): `liquibase update` of a formatted-SQL changelog, then `rollback-count`;
- dualpath: `dualpath apply`, then `dualpath rollback --all` (which takes its verified backup of what
  the downs drop, as it always does); its modules byte-compiled first, as an installed wheel's are;
- with `--compare-with DIR`: the dualpath whose source tree is DIR (e.g. `git archive <commit>
  dualpath | tar -x -C DIR`), run by the same Python: before/after under the same load.

dualpath keeps what it read of a folder between runs (.dualpath/cache/, keyed by every file's content):
its first apply, on a folder never read, is timed once before the rounds and reported apart.
Each round runs every tool once, in a rotated order, each on its own fresh database; medians over
rounds. After each apply the schema must match what the corpus says, after each rollback hold none
of it. Then on an applied database: the command re-run with nothing to do (fixed cost) and
`status` (dualpath, dbmate; median of five after one warm-up). A peer that is not installed is
skipped with a note. Writes bench/results/apply_peers.json.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peers import (  # noqa: E402
    RESULTS,
    VENV_BIN,
    Migration,
    expected_counts,
    generate_migrations,
    schema_counts,
    scratch_db,
    summary_row,
    timed,
    write_flyway,
    write_result,
)

OUT = RESULTS / "apply_peers.json"
NPM_INSTALL = "npm install --prefix DIR dbmate liquibase (then --npm DIR or DUALPATH_BENCH_NPM=DIR)"
EMPTY = {"tables": 0, "columns": 0, "indexes": 0, "rows": 0}
STATUS_RUNS = 5


@dataclass
class Tool:
    """One way to apply and roll back the corpus; ``status`` only where the tool has one."""

    name: str
    apply: Callable[[str], float]
    rollback: Callable[[str], float]
    status: Callable[[str], float] | None = None
    rerun: bool = True  # its apply re-run on an applied database measures its fixed cost
    cache: bool = False  # it keeps what it read of the folder between runs: its first apply is timed apart
    times: dict[str, list[float]] = field(default_factory=lambda: {"apply": [], "rollback": []})


# -- where the databases and tools are --------------------------------------------------------------

def database_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def dualpath_url(server: str, url: str) -> str:
    return url if server == "postgresql" else "mariadb://" + url.split("://", 1)[1]


def client_command(server: str, url: str) -> list[str]:
    if server == "postgresql":
        return ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url]
    return ["mariadb", "-h", "127.0.0.1", "-P", "3306", "-u", "root", database_of(url)]


def npm_tool(npm: Path | None, *parts: str) -> Path | None:
    """A tool from an `npm install --prefix DIR` folder, or None."""
    if npm is None:
        return None
    found = npm.joinpath("node_modules", *parts)
    return found if found.exists() else None


# -- each tool's layout and commands ----------------------------------------------------------------

def run_file(command: list[str], path: Path) -> float:
    """One client process reading ``path`` on stdin (psql -f would do; mariadb has only stdin)."""
    started = time.perf_counter()
    with path.open("rb") as handle:
        done = subprocess.run(command, stdin=handle, capture_output=True)
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} < {path} failed: {done.stderr.decode()[-2000:]}")
    return time.perf_counter() - started


def client_tools(server: str, work: Path, migrations: list[Migration]) -> list[Tool]:
    folder = work / "client"
    folder.mkdir()
    for m in migrations:
        (folder / f"{m.number:05d}.up.sql").write_text(m.up)
        (folder / f"{m.number:05d}.down.sql").write_text(m.down)
    (folder / "all.up.sql").write_text("".join(m.up for m in migrations))
    (folder / "all.down.sql").write_text("".join(m.down for m in reversed(migrations)))
    ups = [folder / f"{m.number:05d}.up.sql" for m in migrations]
    downs = [folder / f"{m.number:05d}.down.sql" for m in reversed(migrations)]

    def each(paths: list[Path]) -> Callable[[str], float]:
        return lambda url: sum(run_file(client_command(server, url), p) for p in paths)

    def whole(path: Path) -> Callable[[str], float]:
        return lambda url: run_file(client_command(server, url), path)

    label = "psql" if server == "postgresql" else "mariadb"
    return [Tool(f"{label} per file", each(ups), each(downs), rerun=False),
            Tool(f"{label} one file", whole(folder / "all.up.sql"), whole(folder / "all.down.sql"), rerun=False)]


def dbmate_tool(server: str, work: Path, migrations: list[Migration], dbmate: Path) -> Tool:
    folder = work / "dbmate"
    folder.mkdir()
    for m in migrations:
        (folder / f"{m.number:05d}_{m.name}.sql").write_text(f"-- migrate:up\n{m.up}\n-- migrate:down\n{m.down}")

    def command(url: str, *verb: str) -> list[str]:
        target = (f"{url.replace('postgresql://', 'postgres://', 1)}?sslmode=disable" if server == "postgresql"
                  else url)
        return [str(dbmate), "--url", target, "--migrations-dir", str(folder), "--no-dump-schema", *verb]

    return Tool("dbmate", lambda url: timed(command(url, "up")),
                lambda url: sum(timed(command(url, "rollback")) for _ in migrations),
                status=lambda url: timed(command(url, "status"), ok=(0, 1)))


def liquibase_tool(server: str, work: Path, migrations: list[Migration], liquibase: Path,
                   drivers: Path | None) -> Tool:
    folder = work / "liquibase"
    folder.mkdir()
    lines = ["--liquibase formatted sql", ""]
    for m in migrations:
        lines += [f"--changeset bench:{m.number}", m.up.rstrip("\n")]
        lines += ["--rollback " + line for line in m.down.rstrip("\n").split("\n")] + [""]
    (folder / "changelog.sql").write_text("\n".join(lines))
    jar = {"postgresql": "postgresql-42.4.2.jar", "mariadb": "mariadb-java-client-2.5.3.jar"}[server]

    def command(url: str, *verb: str) -> list[str]:
        jdbc = (f"jdbc:postgresql://127.0.0.1:5432/{database_of(url)}" if server == "postgresql"
                else f"jdbc:mariadb://127.0.0.1:3306/{database_of(url)}")
        user = "postgres" if server == "postgresql" else "root"
        extra = [f"--classpath={drivers / jar}"] if drivers is not None else []
        return [str(liquibase), "--show-banner=false", "--changelog-file=changelog.sql", f"--url={jdbc}",
                f"--username={user}", "--password=", *extra, *verb]

    return Tool("liquibase", lambda url: timed(command(url, "update"), cwd=folder),
                lambda url: timed(command(url, "rollback-count", "--count", str(len(migrations))), cwd=folder))


def dualpath_tool(server: str, work: Path, migrations: list[Migration], name: str = "dualpath",
                  source: Path | None = None) -> Tool:
    folder = work / "flyway"
    if not folder.exists():
        write_flyway(folder, migrations)
    env = {**os.environ, "PYTHONPATH": str(source)} if source else None
    base = [sys.executable, "-m", "dualpath.cli"] if source else [str(VENV_BIN / "dualpath")]
    compile_sources(source / "dualpath" if source else Path(__file__).resolve().parents[1] / "dualpath")
    home = work / name.replace(" ", "_")  # its own .dualpath/ (backups, cache) per dualpath
    home.mkdir()

    def command(url: str, *verb: str) -> list[str]:
        return [*base, *verb, "--url", dualpath_url(server, url), "--migrations", str(folder)]

    return Tool(name, lambda url: timed(command(url, "apply"), cwd=home, env=env),
                lambda url: timed(command(url, "rollback", "--all"), cwd=home, env=env),
                status=lambda url: timed(command(url, "status"), cwd=home, env=env), cache=True)


def compile_sources(package: Path) -> None:
    """Byte-compile the dualpath that is measured, as pip does when it installs a wheel: an editable or
    unpacked source tree run with PYTHONDONTWRITEBYTECODE=1 set would compile its modules again in every
    run, a tenth of a second that an installed dualpath does not pay."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=True, stdout=subprocess.DEVNULL)


def tools_for(server: str, work: Path, migrations: list[Migration], npm: Path | None,
              compare_with: Path | None) -> list[Tool]:
    client = "psql" if server == "postgresql" else "mariadb"
    if shutil.which(client) is None:
        sys.exit(f"{client} not found: install the {server} client")
    tools = [dualpath_tool(server, work, migrations)]
    if compare_with is not None:
        tools.append(dualpath_tool(server, work, migrations, f"dualpath {compare_with.name}", compare_with))
    tools += client_tools(server, work, migrations)
    dbmate = npm_tool(npm, ".bin", "dbmate") or on_path("dbmate")
    if dbmate is None:
        print(f"note: dbmate not installed, skipped ({NPM_INSTALL})", flush=True)
    else:
        tools.append(dbmate_tool(server, work, migrations, dbmate))
    liquibase = npm_tool(npm, "liquibase", "dist", "liquibase", "liquibase") or on_path("liquibase")
    if liquibase is None or shutil.which("java") is None:
        print(f"note: Liquibase (or Java) not installed, skipped ({NPM_INSTALL})", flush=True)
    else:
        tools.append(liquibase_tool(server, work, migrations, liquibase, npm_tool(npm, "liquibase", "dist", "drivers")))
    return tools


def on_path(name: str) -> Path | None:
    found = shutil.which(name)
    return Path(found) if found else None


# -- measuring ---------------------------------------------------------------------------------------

def measure(server: str, tools: list[Tool], migrations: list[Migration], rounds: int) -> dict[str, Any]:
    """Apply and rollback times per tool (rotated order per round), then re-runs and status."""
    want = expected_counts(migrations)
    first: dict[str, dict[str, float]] = {}
    for tool in tools:
        if tool.cache:  # the folder never read: every file read, split and checksummed, the cache filled
            with scratch_db(server, "peers_first") as url:
                first[tool.name] = {"first_apply_s": tool.apply(url)}
                check(tool.name, "first apply", schema_counts(url), want)
            print(f"  {server}: {tool.name:<22} first apply (folder never read) "
                  f"{first[tool.name]['first_apply_s']:.2f} s", flush=True)
    for r in range(rounds):
        order = tools[r % len(tools):] + tools[:r % len(tools)]
        for tool in order:
            with scratch_db(server, "peers") as url:
                took = tool.apply(url)
                check(tool.name, "apply", schema_counts(url), want)
                back = tool.rollback(url)
                check(tool.name, "rollback", schema_counts(url), EMPTY)
            tool.times["apply"].append(took)
            tool.times["rollback"].append(back)
            print(f"  {server} round {r + 1}: {tool.name:<22} apply {took:7.2f} s   rollback {back:7.2f} s", flush=True)
    fixed: dict[str, dict[str, float]] = {}
    for tool in tools:
        if not tool.rerun:
            continue
        with scratch_db(server, "peers_fixed") as url:
            tool.apply(url)
            fixed[tool.name] = {"rerun_s": statistics.median(tool.apply(url) for _ in range(3))}
            if tool.status is not None:
                tool.status(url)  # warm-up: the OS file cache, and any cache of the tool's own
                fixed[tool.name]["status_s"] = statistics.median(tool.status(url) for _ in range(STATUS_RUNS))
        print(f"  {server}: {tool.name:<22} " + "   ".join(f"{k} {v:.3f} s" for k, v in fixed[tool.name].items()),
              flush=True)
    return {"changes": len(migrations), "rounds": rounds,
            "tools": {t.name: {"apply_s": statistics.median(t.times["apply"]),
                               "rollback_s": statistics.median(t.times["rollback"]),
                               "apply_runs_s": [round(x, 3) for x in t.times["apply"]],
                               "rollback_runs_s": [round(x, 3) for x in t.times["rollback"]],
                               **first.get(t.name, {}), **fixed.get(t.name, {})} for t in tools}}


def check(name: str, what: str, got: dict[str, int], want: dict[str, int]) -> None:
    if got != want:
        sys.exit(f"{name} {what} left a different schema: {got}, expected {want}")


# -- reporting ---------------------------------------------------------------------------------------

def print_table(server: str, found: dict[str, Any]) -> None:
    count = found["changes"]
    print(f"\n{server}, {count} changes, medians of {found['rounds']} round(s)")
    print(f"{'tool':<24}{'apply s':>9}{'ms/change':>11}{'rollback s':>12}{'ms/change':>11}{'re-run s':>10}"
          f"{'status s':>10}")
    for name, t in found["tools"].items():
        rerun = f"{t['rerun_s']:>10.3f}" if "rerun_s" in t else f"{'-':>10}"
        status = f"{t['status_s']:>10.3f}" if "status_s" in t else f"{'-':>10}"
        print(f"{name:<24}{t['apply_s']:>9.2f}{t['apply_s'] / count * 1000:>11.2f}{t['rollback_s']:>12.2f}"
              f"{t['rollback_s'] / count * 1000:>11.2f}{rerun}{status}")
    for name, t in found["tools"].items():
        if "first_apply_s" in t:
            print(f"{name}: first apply, on a folder never read, {t['first_apply_s']:.2f} s (not in the rounds)")


def summarize(server: str, found: dict[str, Any]) -> list[dict[str, Any]]:
    count, tools = found["changes"], found["tools"]
    ours = tools["dualpath"]
    client = "psql per file" if server == "postgresql" else "mariadb per file"
    goal_peer = "dbmate" if server == "postgresql" else client  # issue 14 item 12
    rows = []
    for what in ("apply", "rollback"):
        mine = ours[f"{what}_s"] / count * 1000
        for name, t in tools.items():
            if name == "dualpath":
                continue
            theirs = t[f"{what}_s"] / count * 1000
            gated = what == "apply" and name == goal_peer
            rows.append(summary_row("apply_peers", f"{server} {what}, {count} changes (ms per change)", f"{mine:.2f}",
                                    f"{name} {theirs:.2f}", mine / theirs if theirs else None,
                                    f"at or below {name}" if gated else "reported", mine <= theirs if gated else None))
    if "status_s" in ours:
        peer = tools.get("dbmate", {}).get("status_s")
        gated = server == "postgresql"
        rows.append(summary_row("apply_peers", f"{server} status, {count} applied (s)", f"{ours['status_s']:.3f}",
                                f"dbmate {peer:.3f}" if peer is not None else "-",
                                ours["status_s"] / peer if peer else None,
                                "< 0.3 s" if gated else "reported", ours["status_s"] < 0.3 if gated else None))
    if "first_apply_s" in ours:
        rows.append(summary_row("apply_peers", f"{server} first apply, {count} changes, folder never read (s)",
                                f"{ours['first_apply_s']:.2f}", "-", None, "reported", None))
    if "rerun_s" in ours:
        peer = tools.get("dbmate", {}).get("rerun_s")
        rows.append(summary_row("apply_peers", f"{server} apply with nothing to do, {count} applied (s)",
                                f"{ours['rerun_s']:.3f}", f"dbmate {peer:.3f}" if peer is not None else "-",
                                ours["rerun_s"] / peer if peer else None, "reported", None))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default="postgresql,mariadb", help="comma-separated: postgresql,mariadb")
    parser.add_argument("--pg-changes", type=int, default=500)
    parser.add_argument("--mariadb-changes", type=int, default=352, help="the size of the real folder of issue 14")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--npm", type=Path, default=os.environ.get("DUALPATH_BENCH_NPM"),
                        help="folder of `npm install --prefix DIR dbmate liquibase`")
    parser.add_argument("--compare-with", type=Path, help="another dualpath source tree, timed as a peer")
    parser.add_argument("--quick", action="store_true", help="40 changes, 1 round")
    args = parser.parse_args()
    sizes = {"postgresql": args.pg_changes, "mariadb": args.mariadb_changes}
    rounds = 1 if args.quick else args.rounds
    results: dict[str, Any] = {}
    summary: list[dict[str, Any]] = []
    for server in (s.strip() for s in args.engines.split(",") if s.strip()):
        count = 40 if args.quick else sizes[server]
        migrations = generate_migrations(count, mysql=server == "mariadb")
        with tempfile.TemporaryDirectory() as tmp:
            tools = tools_for(server, Path(tmp), migrations, args.npm, args.compare_with)
            print(f"{server}: {count} changes, {rounds} round(s): {', '.join(t.name for t in tools)}", flush=True)
            results[server] = measure(server, tools, migrations, rounds)
        print_table(server, results[server])
        summary += summarize(server, results[server])
    # the load says how far to trust the numbers: the machine should be quiet
    result = {"machine": platform.platform(), "load_average_1m": round(os.getloadavg()[0], 2), "quick": args.quick,
              "compare_with": str(args.compare_with) if args.compare_with else None, "results": results,
              "summary": summary}
    write_result(OUT, result)
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
