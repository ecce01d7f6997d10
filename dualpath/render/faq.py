"""The living FAQ of a project (``[docs] faq``, default ``docs/faq.md`` beside dualpath.toml): each recorded
run appends one marked section; a section already in the file is never rewritten, so a person's edits to it,
and everything outside the markers, stay as they are."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from dualpath.render.display import duration, relative_to, shown_target
from dualpath.render.followups import tables_named
from dualpath.render.impact import DATA_OPS
from dualpath.render.inputs import DocInputs
from dualpath.render.records import detail_of

HEADER = ("# Migration FAQ\n\n"
          "<!-- `dualpath docs` appends one section per recorded run between dualpath:run markers and never\n"
          "     rewrites a section already here: edit them freely, and write anything else outside them. -->\n")
_MARK = re.compile(r"<!-- dualpath:run (\S+) begin -->")
LONG_S = 60.0  # a change this long on one tenant is worth a line


def faq_path(inputs: DocInputs) -> Path | None:
    """``[docs] faq`` beside dualpath.toml; None when it is "" or no config file was read."""
    written = inputs.settings.docs.faq
    if not written or inputs.settings.source is None:
        return None  # no dualpath.toml, no project folder to keep a FAQ in (never the current directory)
    path = Path(written)
    return path if path.is_absolute() else inputs.settings.root / path


def update_faq(inputs: DocInputs, roots: Sequence[Path] = ()) -> Path | None:
    """Append a section for each recorded run the FAQ does not hold yet, paths relative to ``roots``;
    the file's path, or None (no FAQ configured)."""
    path = faq_path(inputs)
    if path is None:
        return None
    text = path.read_text(encoding="utf-8") if path.is_file() else HEADER
    known = set(_MARK.findall(text))
    runs = list(dict.fromkeys(str(r["run_id"]) for r in inputs.records.history))
    new = [relative_to(run_section(inputs, run), list(roots)) for run in runs if run not in known]
    if new or not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.rstrip("\n") + "\n" + "".join("\n" + s for s in new), encoding="utf-8")
    return path


def run_section(inputs: DocInputs, run_id: str) -> str:
    rows = [r for r in inputs.records.history if str(r["run_id"]) == run_id]
    target = shown_target(inputs.plan.target)
    lines = [f"<!-- dualpath:run {run_id} begin -->",
             f"## Run {run_id} on {target} ({rows[0]['applied_at']:%Y-%m-%d %H:%M} UTC, "
             f"by {rows[0]['applied_by']})", "",
             "Changes run: " + ", ".join(f"{r['version']} {r['description']} ({r['direction']}, "
                                     f"{'ok' if r['success'] else 'failed'})" for r in rows), "",
             f"### Tenant-specific considerations ({target})", ""]
    lines += [f"- {t}" for t in _considerations(inputs, run_id, rows)] or ["- none came up"]
    lines += ["", "### Data corrections applied", ""]
    lines += [f"- {t}" for t in _corrections(inputs, rows)] or ["- none: this run changed no rows of existing data"]
    lines += ["", "### What depends on this", ""]
    lines += [f"- {t}" for t in _dependents(inputs, rows)] or ["- no pending change builds on it"]
    lines += [f"<!-- dualpath:run {run_id} end -->", ""]
    return "\n".join(lines)


def _considerations(inputs: DocInputs, run_id: str, rows: list[dict[str, object]]) -> list[str]:
    records = inputs.records
    found = []
    for a in records.audit:
        if str(a["run_id"]) == run_id and a["action"] in ("lock-timeout", "deadlock"):
            detail = detail_of(a)
            found.append(f"{a['action']} at {detail.get('at', '?')} (change {a['version']}), retry "
                         f"{detail.get('attempt', '?')}: a session held the table longer than the lock timeout")
    for r in rows:
        if not r["success"]:
            detail = detail_of(r)
            found.append(f"{r['version']} failed at {detail.get('failed_at') or detail.get('at') or '?'}: "
                         f"{detail.get('error', 'see the history')}")
        taken = float(str(r["duration_ms"])) / 1000
        if taken >= LONG_S:
            found.append(f"{r['version']} {r['description']} took {duration(taken)} here")
    return found


def _corrections(inputs: DocInputs, rows: list[dict[str, object]]) -> list[str]:
    found = []
    for r in rows:
        change = inputs.change(str(r["version"]))
        if change is None or r["direction"] != "up" or not r["success"]:
            continue
        for statement in change.forward:
            first = statement.text.lstrip().split(None, 1)[0].upper() if statement.text.strip() else ""
            if first.lower() not in {op.split("_")[0] for op in DATA_OPS}:
                continue
            changed = inputs.records.rows_changed(change.version)
            how = (f"in batches ({changed:,} rows, resumable checkpoints)" if statement.directive("batch") and
                   changed is not None else "in one transaction")
            found.append(f"{change.version} {change.description}: `{' '.join(statement.text.split())[:160]}` "
                         f"({statement.where}), {how}")
    return found


def _dependents(inputs: DocInputs, rows: list[dict[str, object]]) -> list[str]:
    """Each pending change that works on tables this run changed, once, with the versions it builds on."""
    engine = inputs.plan.engine
    ran = [c for c in (inputs.change(str(r["version"])) for r in rows if r["direction"] == "up" and r["success"])
           if c is not None]
    touched = {c.version: {t for s in c.forward for t in tables_named(s.text, engine)} for c in ran}
    found = []
    for pending in inputs.plan.changes:
        if pending.version in touched:
            continue  # recorded as run and still pending: a failed attempt, not a later change
        later = inputs.change(pending.version)
        theirs = {t for s in (later.forward if later else ()) for t in tables_named(s.text, engine)}
        on = [v for v, mine in touched.items() if mine & theirs]
        if on:
            shared = sorted({t for v in on for t in touched[v] & theirs})
            found.append(f"{pending.version} {pending.description} (pending) works on {', '.join(shared)}, which "
                         f"{', '.join(on)} changed" + (f"; irreversible: {pending.irreversible}"
                                                       if pending.irreversible else ""))
    return found
