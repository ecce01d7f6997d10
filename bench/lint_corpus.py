"""Recall and false alarms of `dualpath lint` on the measured corpus, next to squawk's.

    .venv/bin/python bench/lint_corpus.py [--engine postgresql|mariadb] [--quick]

Each statement of tests/corpus runs on the local PostgreSQL / MariaDB (one database per engine,
reset per case) and is labelled hazard or safe by what the server did; then dualpath lints it
without a server and with ``--url`` (the same database, before the change), and squawk lints the
PostgreSQL statements. Recall = hazards flagged / hazards; false alarms = safe statements flagged /
safe statements. dualpath flags with a warning or an error; a finding that says what it depends on
(no server) counts as neither and is shown apart. squawk flags with any violation; its rules about
a file's hygiene rather than a statement's effect (timeouts, idempotency, type preferences — which
dualpath reports as info) are left out in the second squawk row. Also run by bench/lint.py.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "bench"), str(ROOT)]  # bench's siblings, and tests.corpus

# squawk rules that judge the file's habits, not what the statement does to the server
HYGIENE = {"require-timeout-settings", "require-lock-timeout", "require-statement-timeout", "prefer-robust-stmts",
           "prefer-bigint-over-int", "prefer-bigint-over-smallint", "prefer-identity", "prefer-text-field",
           "prefer-timestamptz", "prefer-timestamp-tz", "ban-char-field", "transaction-nesting"}


def measure_corpus(engines: tuple[str, ...], quick: bool) -> list[dict[str, Any]]:
    """Every case: its measured label and dualpath's verdicts without and with --url."""
    from tests.corpus import measure_mariadb, measure_pg
    from tests.corpus.cases import CASES
    from tests.corpus.verdict import HAZARD, SAFE, lint_case, verdict
    from tests.integration.dbs import server_database

    measures = {"postgresql": measure_pg, "mariadb": measure_mariadb}
    backends = {"postgresql": "postgresql", "mariadb": "mysql"}
    rows = []
    for engine in engines:
        cases = [c for c in CASES if c.engine == engine][: 20 if quick else None]
        with server_database(backends[engine], f"bench_corpus_{engine}") as url:
            for case in cases:
                measure = measures[engine]
                measure.reset(url)
                plain, live = verdict(lint_case(case, None)), verdict(lint_case(case, url))
                observed = measure.measure(url, case.sql)
                rows.append({"id": case.id, "engine": engine, "sql": case.sql,
                             "label": HAZARD if observed.hazard else SAFE, "why": observed.describe(),
                             "dualpath": plain, "dualpath_url": live})
    return rows


def run_squawk(rows: list[dict[str, Any]]) -> str | None:
    """Add squawk's verdicts to the PostgreSQL rows; the reason when it cannot run."""
    from lint import find_squawk

    squawk = find_squawk()
    if squawk is None:
        return "squawk not installed (.venv/bin/pip install squawk-cli): its columns are left out"
    pg = [r for r in rows if r["engine"] == "postgresql"]
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for n, row in enumerate(pg):
            path = Path(tmp) / f"case_{n:03d}.sql"
            path.write_text(row["sql"] + "\n")
            files[path.name] = row
        done = subprocess.run([squawk, "--reporter", "json", "--pg-version", "15",
                               *(str(Path(tmp) / name) for name in files)], capture_output=True, text=True)
        found = json.loads(done.stdout or "[]")
    for row in pg:
        rules = {f["rule_name"] for f in found if Path(f["file"]).name in files and files[Path(f["file"]).name] is row}
        row["squawk"] = "hazard" if rules else "safe"
        row["squawk_effects"] = "hazard" if rules - HYGIENE else "safe"
        row["squawk_rules"] = sorted(rules)
    return None


def score(rows: list[dict[str, Any]], engine: str, tool: str) -> dict[str, Any] | None:
    mine = [r for r in rows if r["engine"] == engine and tool in r]
    if not mine:
        return None
    hazards = [r for r in mine if r["label"] == "hazard"]
    safe = [r for r in mine if r["label"] == "safe"]
    caught = sum(r[tool] == "hazard" for r in hazards)
    alarms = sum(r[tool] == "hazard" for r in safe)
    return {"hazards": len(hazards), "safe": len(safe), "caught": caught, "false_alarms": alarms,
            "recall": caught / len(hazards) if hazards else None,
            "false_alarm_rate": alarms / len(safe) if safe else None,
            "depends_on_hazards": sum(r[tool] == "depends" for r in hazards),
            "depends_on_safe": sum(r[tool] == "depends" for r in safe)}


TOOLS = (("dualpath", "dualpath lint"), ("dualpath_url", "dualpath lint --url"), ("squawk", "squawk (all rules)"),
         ("squawk_effects", "squawk (effect rules)"))


def table(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {engine: {tool: s for tool, _ in TOOLS if (s := score(rows, engine, tool))}
            for engine in ("postgresql", "mariadb") if any(r["engine"] == engine for r in rows)}


def print_table(scores: dict[str, dict[str, Any]]) -> None:
    print(f"{'engine':<11}{'tool':<24}{'hazards caught':>16}{'false alarms':>15}{'depends (h/s)':>15}")
    for engine, tools in scores.items():
        for tool, label in TOOLS:
            s = tools.get(tool)
            if s is None:
                continue
            caught = f"{s['caught']}/{s['hazards']} {s['recall']:.0%}"
            alarms = f"{s['false_alarms']}/{s['safe']} {s['false_alarm_rate']:.0%}"
            print(f"{engine:<11}{label:<24}{caught:>16}{alarms:>15}"
                  f"{str(s['depends_on_hazards']) + '/' + str(s['depends_on_safe']):>15}")


def summary_rows(scores: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows for bench/run_all.py's table: recall and false alarms with --url, squawk beside."""
    found = []
    for engine, tools in scores.items():
        ours, peer = tools.get("dualpath_url"), tools.get("squawk_effects")
        if ours is None:
            continue
        versus = f"squawk {peer['recall']:.0%}" if peer else "—"
        found.append({"benchmark": "lint", "measure": f"{engine} corpus: hazards caught, lint --url",
                      "dualpath": f"{ours['recall']:.0%}", "peer": versus, "ratio": None,
                      "goal": "≥ 95%", "met": ours["recall"] >= 0.95})
        versus = f"squawk {peer['false_alarm_rate']:.0%}" if peer else "—"
        found.append({"benchmark": "lint", "measure": f"{engine} corpus: safe statements flagged, lint --url",
                      "dualpath": f"{ours['false_alarm_rate']:.0%}", "peer": versus, "ratio": None,
                      "goal": "≤ 5%", "met": ours["false_alarm_rate"] <= 0.05})
    return found


def corpus_result(engines: tuple[str, ...] = ("postgresql", "mariadb"), quick: bool = False) -> dict[str, Any]:
    """Measure, lint, score; a note instead of numbers when the servers are not reachable."""
    try:
        rows = measure_corpus(engines, quick)
    except Exception as exc:  # noqa: BLE001 - a benchmark reports what stopped it and goes on
        return {"note": f"corpus not measured: {str(exc).splitlines()[0]} (run /work/shared/services.sh)"}
    note = run_squawk(rows)
    result: dict[str, Any] = {"cases": len(rows), "scores": table(rows), "rows": rows}
    if note:
        result["note"] = note
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=("postgresql", "mariadb"), help="one engine only")
    parser.add_argument("--quick", action="store_true", help="20 cases per engine")
    parser.add_argument("--out", type=Path, help="write the JSON here too")
    args = parser.parse_args()
    result = corpus_result((args.engine,) if args.engine else ("postgresql", "mariadb"), args.quick)
    if "scores" in result:
        print_table(result["scores"])
    if "note" in result:
        print(result["note"])
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
