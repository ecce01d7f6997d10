"""Benchmark: one big migration file (a data load of many INSERT lines), read and run.

    .venv/bin/python bench/bigfiles.py [--sizes 50,500] [--skip-apply-above 100] [--quick] [--out FILE]

For each size (MB) a Flyway folder with V1__big.sql (CREATE TABLE + INSERT lines) and its undo is
generated, then each of these runs as its own process, timed (wall seconds) and measured (peak
resident memory of the process, from getrusage):

- the physical floor: `cat file > /dev/null` and `sha256sum file` (reading the bytes once),
- `dualpath detect`, `dualpath apply --dry-run` (output to /dev/null) and `dualpath apply` on a
  fresh PostgreSQL database,
- the peer: `psql -X -q -v ON_ERROR_STOP=1 --single-transaction -f file` on a fresh database.

The goal: memory a few times the largest statement (not the file) and time linear in the size.
Writes bench/results/bigfiles.json.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peers import RESULTS, ROOT, VENV_BIN, require_tool, scratch_pg, summary_row, write_result  # noqa: E402

OUT = RESULTS / "bigfiles.json"
MEASURE = """import resource, subprocess, sys, time
started = time.perf_counter()
done = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
took = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(took, peak, done.returncode, done.stderr.decode()[-2000:].replace(chr(10), " | "), sep="\\t")
"""


def write_folder(folder: Path, megabytes: int) -> tuple[Path, int, int]:
    """V1__big.sql of about ``megabytes`` MB; returns its path, its size and its statement count."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "V1__big.sql"
    target = megabytes * 1_000_000
    count = 1
    with path.open("w") as out:
        out.write("CREATE TABLE bt_big (id bigint PRIMARY KEY, name text NOT NULL, note text);\n")
        written, n = 0, 0
        while written < target:
            block = "".join(f"INSERT INTO bt_big VALUES ({i}, 'name-{i}', 'note {i} lorem');\n"
                            for i in range(n, n + 10_000))
            out.write(block)
            written += len(block)
            n += 10_000
            count += 10_000
    (folder / "U1__big.sql").write_text("DROP TABLE bt_big;\n")
    return path, path.stat().st_size, count


def measure(cmd: list[str]) -> dict[str, Any]:
    """Wall seconds and peak RSS (MB) of one process; another exit code than 0 stops the bench."""
    # BENCH_CODE=/path/to/checkout measures another checkout's dualpath (before/after figures)
    env = dict(os.environ, PYTHONPATH=os.environ.get("BENCH_CODE", str(ROOT)))
    done = subprocess.run([sys.executable, "-c", MEASURE, "--", *cmd], capture_output=True, text=True, env=env)
    took, peak, code, stderr = done.stdout.rstrip("\n").split("\t", 3)
    if int(code) != 0:
        sys.exit(f"{' '.join(cmd)} failed (exit {code}): {stderr}")
    return {"seconds": round(float(took), 2), "peak_mb": round(int(peak) / 1024, 1)}


def run_size(work: Path, megabytes: int, apply: bool) -> dict[str, Any]:
    folder = work / f"mig{megabytes}"
    print(f"generating {megabytes} MB ...", flush=True)
    path, size, count = write_folder(folder, megabytes)
    dualpath = str(VENV_BIN / "dualpath")
    psql = require_tool("psql", "apt-get install postgresql-client")
    rows: dict[str, Any] = {"bytes": size, "statements": count}
    measure(["cat", str(path)])  # warm the OS file cache
    rows["cat"] = measure(["cat", str(path)])
    rows["sha256sum"] = measure(["sha256sum", str(path)])
    rows["dualpath detect"] = measure([dualpath, "detect", "--migrations", str(folder)])
    with scratch_pg(f"big{megabytes}") as url:
        rows["dualpath apply --dry-run"] = measure([dualpath, "apply", "--url", url, "--migrations", str(folder),
                                                    "--dry-run"])
        if apply:
            rows["dualpath apply"] = measure([dualpath, "apply", "--url", url, "--migrations", str(folder)])
    if apply:
        with scratch_pg(f"bigpsql{megabytes}") as url:
            rows["psql -f"] = measure([psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction",
                                       "-d", url, "-f", str(path)])
    for name, row in rows.items():
        if isinstance(row, dict):
            print(f"  {megabytes:>4} MB  {name:<26} {row['seconds']:>8.2f} s  {row['peak_mb']:>8.1f} MB peak",
                  flush=True)
    return rows


def summary(results: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for size, rows in results.items():
        file_mb = rows["bytes"] / 1e6
        for name in ("dualpath detect", "dualpath apply --dry-run", "dualpath apply"):
            if name not in rows:
                continue
            row = rows[name]
            peer_name = "psql -f" if name == "dualpath apply" and "psql -f" in rows else "sha256sum"
            peer = rows[peer_name]
            ratio = row["seconds"] / peer["seconds"] if peer["seconds"] else None
            out.append(summary_row(f"bigfiles {size} MB", f"{name}: time, peak memory",
                                   f"{row['seconds']} s, {row['peak_mb']} MB",
                                   f"{peer_name}: {peer['seconds']} s, {peer['peak_mb']} MB", ratio,
                                   f"peak memory well under the file ({file_mb:.0f} MB)",
                                   row["peak_mb"] < file_mb))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="50,500", help="file sizes in MB, comma-separated")
    parser.add_argument("--skip-apply-above", type=int, default=100,
                        help="sizes (MB) above this are read and dry-run but not applied")
    parser.add_argument("--quick", action="store_true", help="one 5 MB file")
    parser.add_argument("--out", type=Path, default=OUT, help="where to write the JSON")
    args = parser.parse_args()
    sizes = [5] if args.quick else [int(s) for s in args.sizes.split(",")]
    results: dict[str, dict[str, Any]] = {}
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="dp_bigfiles_") as tmp:
        for size in sizes:
            results[str(size)] = run_size(Path(tmp), size, size <= args.skip_apply_above)
    data = {"machine": platform.platform(), "python": platform.python_version(), "took_s": round(time.time() - started),
            "results": results, "summary": summary(results)}
    write_result(args.out, data)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
