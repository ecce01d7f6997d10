"""Run every benchmark in turn, then print one summary table of all their results.

    .venv/bin/python bench/run_all.py [--quick] [--only apply_overhead,coldstart] [--table-only] [--markdown]
                                      [--write-docs]

Each benchmark is a script bench/<name>.py run as its own process (`--quick` is passed on: small
sizes for a smoke run). A script that is missing or fails becomes a FAILED row: the others still
run. Afterwards every bench/results/*.json is read; each carries a "summary" list of rows
{"benchmark", "measure", "dualpath", "peer", "ratio", "goal", "met"}. The table goes to the
terminal and, with the runs' exit codes and times, to bench/results/summary.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
SUMMARY = RESULTS / "summary.json"
BENCHMARKS = ("lint", "backfill", "estimates", "apply_overhead", "apply_peers", "roundtrips", "coldstart", "fanout",
              "measure", "real_folders")
FIELDS = ("benchmark", "measure", "dualpath", "peer", "ratio", "goal", "met")
DOCS = BENCH.parent / "docs" / "benchmarks.md"
START, END = "<!-- summary:start -->", "<!-- summary:end -->"


def run_one(name: str, quick: bool, timeout: float) -> dict[str, Any]:
    """Run bench/<name>.py; its output streams to the terminal. Never raises."""
    script = BENCH / f"{name}.py"
    if not script.is_file():
        return {"status": "missing", "exit": None, "seconds": 0.0}
    print(f"\n=== {name}{' --quick' if quick else ''} ===", flush=True)
    started = time.perf_counter()
    try:
        command = [sys.executable, str(script), *(["--quick"] if quick else [])]
        code = subprocess.run(command, cwd=BENCH.parent, timeout=timeout).returncode
    except OSError as exc:
        return {"status": f"could not start: {exc}", "exit": None, "seconds": 0.0}
    except subprocess.TimeoutExpired:
        return {"status": f"timed out after {timeout:.0f} s", "exit": None, "seconds": timeout}
    seconds = round(time.perf_counter() - started, 1)
    return {"status": "ok" if code == 0 else "failed", "exit": code, "seconds": seconds}


def failure_row(name: str, what: str) -> dict[str, Any]:
    return {"benchmark": name, "measure": what, "dualpath": "-", "peer": "-", "ratio": None, "goal": "-",
            "met": False}


def read_rows(name: str) -> list[dict[str, Any]]:
    """The summary rows of bench/results/<name>.json, or one row saying what is wrong with it."""
    path = RESULTS / f"{name}.json"
    if not path.is_file():
        return [failure_row(name, f"no {path.relative_to(BENCH.parent)}")]
    try:
        rows = json.loads(path.read_text()).get("summary")
    except (json.JSONDecodeError, AttributeError) as exc:
        return [failure_row(name, f"unreadable {path.name}: {exc}")]
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        return [failure_row(name, f'{path.name} has no "summary" list')]
    return [{field: row.get(field) for field in FIELDS} for row in rows]


def collect(runs: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of every benchmark (in run order, then any other results file); a failed run says so first."""
    others = sorted(p.stem for p in RESULTS.glob("*.json") if p.stem != "summary" and p.stem not in BENCHMARKS)
    rows: list[dict[str, Any]] = []
    for name in (*BENCHMARKS, *others):
        run = runs.get(name)
        if run and run["status"] == "missing":
            rows.append(failure_row(name, f"bench/{name}.py is missing"))
            continue
        if run and run["status"] != "ok":
            why = f"exit {run['exit']}" if run["status"] == "failed" else run["status"]
            rows.append(failure_row(name, f"FAILED ({why}); rows below, if any, are from an earlier run"))
        rows.extend(read_rows(name))
    return rows


def results_data() -> dict[str, dict[str, Any]]:
    """Every readable results file but the summary, by benchmark name."""
    found = {}
    for path in sorted(RESULTS.glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError:
            continue
        if path.stem != "summary" and isinstance(data, dict):
            found[path.stem] = data
    return found


def quick_results() -> list[str]:
    """Results files written by a --quick run: smoke numbers, not to be quoted."""
    return [name for name, data in results_data().items() if data.get("quick") is True]


def loaded_results() -> list[str]:
    """Results measured while the machine was busy (1-minute load above its CPU count)."""
    cpus = os.cpu_count() or 1
    return [f"{name} (load {data['load_average_1m']} on {cpus} CPUs)" for name, data in results_data().items()
            if isinstance(data.get("load_average_1m"), int | float) and data["load_average_1m"] > cpus]


def met_text(met: object) -> str:
    if met is None:
        return "-"
    return "[green]yes[/]" if met else "[red]NO[/]"


def print_table(rows: list[dict[str, Any]], quick: list[str]) -> None:
    note = f" (quick sizes, smoke numbers not to quote: {', '.join(quick)})" if quick else ""
    loaded = loaded_results()
    table = Table(title="dualpath benchmarks" + note,
                  caption=f"measured on a busy machine: {', '.join(loaded)}" if loaded else None)
    for column in ("benchmark", "measure", "dualpath", "peer", "ratio", "goal", "met"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(str(row[f] if row[f] is not None else "-") for f in FIELDS[:-1]), met_text(row["met"]))
    Console(width=200).print(table)


def markdown(rows: list[dict[str, Any]]) -> str:
    """The same table for docs/benchmarks.md."""
    lines = ["| " + " | ".join(FIELDS) + " |", "|" + " --- |" * len(FIELDS)]
    for row in rows:
        met = {True: "yes", False: "**no**"}.get(row["met"], "-")
        cells = [str(row[f]) if row[f] is not None else "-" for f in FIELDS[:-1]] + [met]
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return "\n".join(lines)


def write_docs(rows: list[dict[str, Any]], stamp: str, quick: list[str]) -> None:
    """Replace the table between the summary markers of docs/benchmarks.md with these rows."""
    text = DOCS.read_text()
    if START not in text or END not in text:
        print(f"{DOCS.relative_to(BENCH.parent)} has no {START} ... {END} markers: not updated", file=sys.stderr)
        return
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    note = f"Generated {stamp} by `bench/run_all.py`."
    if quick:
        note += f" Quick sizes (smoke numbers, not to quote) in: {', '.join(quick)}."
    if loaded := loaded_results():
        note += f" Measured on a busy machine, to re-run on a quiet one: {', '.join(loaded)}."
    DOCS.write_text(f"{head}{START}\n{note}\n\n{markdown(rows)}\n{END}{tail}")
    print(f"updated {DOCS.relative_to(BENCH.parent)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="pass --quick to every benchmark (small sizes)")
    parser.add_argument("--only", help="comma-separated benchmarks to run, e.g. apply_overhead,coldstart")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per benchmark before it counts as failed")
    parser.add_argument("--table-only", action="store_true", help="run nothing: print the table of the results")
    parser.add_argument("--markdown", action="store_true", help="also print the table as Markdown")
    parser.add_argument("--write-docs", action="store_true", help="put the table into docs/benchmarks.md")
    args = parser.parse_args()
    chosen = BENCHMARKS if not args.only else tuple(n.strip() for n in args.only.split(",") if n.strip())
    unknown = [n for n in chosen if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    runs = {} if args.table_only else {name: run_one(name, args.quick, args.timeout) for name in chosen}
    rows = collect(runs)
    quick = quick_results()
    print()
    print_table(rows, quick)
    if args.markdown:
        print(markdown(rows))
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    SUMMARY.write_text(json.dumps({"generated_at": stamp, "machine": platform.platform(), "quick": args.quick,
                                   "quick_results": quick, "runs": runs, "summary": rows}, indent=2) + "\n")
    print(f"wrote {SUMMARY.relative_to(BENCH.parent)}")
    if args.write_docs:
        write_docs(rows, stamp, quick)
    return 0 if all(run["status"] == "ok" for run in runs.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
