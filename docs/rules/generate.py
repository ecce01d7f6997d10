"""Write docs/rules/DPnnn.md and index.md from the rules' own metadata.

    python docs/rules/generate.py          # rewrite the pages
    python docs/rules/generate.py --check  # exit 1 when a page is out of date (the tests run this)
"""

from __future__ import annotations

import sys
from pathlib import Path

from dualpath.risk.examples import example_dialect, example_findings
from dualpath.risk.registry import all_rules
from dualpath.risk.rule import Rule

HERE = Path(__file__).resolve().parent
SCOPES = {"change": "the whole change (forward and rollback)",
          "rehearsal": "each statement, as measured by a lock rehearsal on a shadow (`dualpath verify`, "
                       "`dualpath plan --rehearse`); `dualpath lint` alone cannot see it",
          "measured": "each forward statement, run on a shadow of the target (`dualpath lint --url`, "
                      "`dualpath plan`); without a server it cannot be seen (see the index: measured on a shadow)"}
ENGINE_NAMES = {"postgresql": "PostgreSQL", "mysql": "MySQL / MariaDB", "sqlite": "SQLite"}


def sql_block(sql: str) -> str:
    return f"```sql\n{sql.strip()}\n```"


def reported(rule: Rule) -> str:
    """What dualpath prints for the bad example: the docs show real output, not a paraphrase."""
    lines = [f"{f.file}:{f.line}:{f.column} {f.rule} {f.severity}: {f.message}"
             for f in example_findings(rule, "bad") if f.rule == rule.id]
    return "```text\n" + "\n".join(lines) + "\n```"


def measured_table(rule: Rule, which: str) -> str:
    rows = ["| table | predicted | measured | how |", "| --- | --- | --- | --- |"]
    rows += [f"| {m.table} | {m.predicted_lock} | {m.measured_lock} | {m.method} |"
             for m in getattr(rule, "example_measured", {}).get(which, ())]
    return "\n".join(rows)


def measurement_table(rule: Rule, which: str) -> str:
    """What the shadow measured (or the catalog named) for an example of a measured rule."""
    measurement = getattr(rule, "example_measurement", {}).get(which)
    observed = [w for o in measurement.observations.values() for w in o.tables] if measurement else []
    named = [d for ds in measurement.dependents.values() for d in ds] if measurement else []
    if observed:
        rows = ["| table | lock held | rewritten | indexes rebuilt | scans |", "| --- | --- | --- | --- | --- |"]
        rows += [f"| {w.table} | {w.lock} | {'yes' if w.rewritten else 'no'} | {len(w.indexes_rebuilt)} | {w.scans} |"
                 for w in observed]
        return "\n".join(rows)
    if named:
        rows = ["| uses | dependent | what happens |", "| --- | --- | --- |"]
        rows += [f"| {d.used} | {d.kind} {d.name} | {d.outcome} |" for d in named]
        return "\n".join(rows)
    return "nothing on the server depends on it."


def page(rule: Rule) -> str:
    engines = ", ".join(ENGINE_NAMES[e] for e in rule.engines)
    parts = [
        f"# {rule.id}: {rule.title}",
        "",
        f"- **Severity:** {rule.severity}",
        f"- **Engines:** {engines}",
        f"- **Scope:** {SCOPES.get(rule.scope, 'each statement')}",
    ]
    if rule.example_version:
        parts.append(f"- **Examples assume:** {example_dialect(rule)} {'.'.join(map(str, rule.example_version))}")
    parts += ["", "## Why it is dangerous", "", rule.why, "", "## Safe alternative", "", rule.alternative, "",
              "## Example", "", "Reported:", "", sql_block(rule.bad)]
    if rule.scope == "change":
        parts += ["", "with the rollback:" if rule.bad_rollback else "with no rollback."]
        if rule.bad_rollback:
            parts += ["", sql_block(rule.bad_rollback)]
    if rule.scope == "rehearsal":
        parts += ["", "when the rehearsal measured:", "", measured_table(rule, "bad")]
    if rule.scope == "measured":
        parts += ["", "when the shadow showed:", "", measurement_table(rule, "bad")]
    parts += ["", "dualpath says:", "", reported(rule), "", "Safe:", "", sql_block(rule.good)]
    if rule.scope == "rehearsal":
        parts += ["", "once the catalogue predicts what the rehearsal measures:", "", measured_table(rule, "good")]
    if rule.scope == "measured":
        parts += ["", "when the shadow showed:", "", measurement_table(rule, "good")]
    if rule.scope == "change" and rule.good_rollback:
        parts += ["", "with the rollback:", "", sql_block(rule.good_rollback)]
    if rule.cases:
        parts += ["", "## Edge cases", "", "Checked by the tests (`Rule.cases`):", "",
                  "| case | reported |", "| --- | --- |"]
        parts += [f"| {c.note or c.sql} | {'yes' if c.reported else 'no'} |" for c in rule.cases]
    parts += ["", "## Accepting a finding", "",
              f"Above the statement: `-- dualpath:ignore {rule.id} reason=\"...\"` (the reason is required). "
              f"For a whole project: `[lint] disable = [\"{rule.id}\"]` in `dualpath.toml`.", ""]
    return "\n".join(parts)


def index(rules: tuple[Rule, ...]) -> str:
    rows = ["# Lint rules", "",
            "Generated by `docs/rules/generate.py` from each rule's metadata; do not edit by hand.", "",
            "| rule | title | severity | engines |", "| --- | --- | --- | --- |"]
    rows += [f"| [{r.id}]({r.id}.md) | {r.title} | {r.severity} | {', '.join(r.engines)} |" for r in rules]
    rows += ["", "`DP000` is not a rule: it marks SQL or a migration file that cannot be read, with the "
             "parser's message and location. The other statements and files are still linted.", "",
             HAZARD, "", MEASURED]
    return "\n".join(rows) + "\n"


MEASURED = """## Measured on a shadow (`--url`)

Without a server the rules judge each statement from its text and the lock catalogue. With `--url`
(`dualpath lint --url`, and `dualpath plan` and `dualpath verify`, which always have one; their
`--no-measure` skips it)
dualpath also **runs** every change the target has not applied on a shadow of the target and
**measures** what each forward statement does. Static rules stay exactly as they are for files
linted without a server: measuring never makes `lint` without `--url` slower (the probers, SQLAlchemy
and the drivers are not even imported then).

**The shadow.** A new database on the target's server (named `dp_shadow_…`, dropped afterwards,
like `dualpath verify`'s; `plan` also honours `[verify] shadow_url`) holding the target's schema
and up to 10 rows of each table (columns in `pii_columns` masked). If the shadow cannot be made
(no privilege to create a database, no `pg_dump`), the command says so on stderr and the rules
judge alone; the dependents (DP081) are then read from the target's catalog. On MySQL/MariaDB
reading InnoDB's table ids needs the PROCESS privilege: without it nothing is measured either, and
the command says so.

**The scope.** Each change runs as dualpath runs it: on PostgreSQL in one transaction (so a lock
taken by an earlier statement is still held by a later one), or statement by statement when it is
marked no-transaction or batched; on MySQL/MariaDB each statement commits alone. The changes of a
migration folder build on each other, each measured where the ones before it left the shadow; `.sql`
files linted on their own are each measured against the target as it is (their transaction is
rolled back afterwards; on MySQL/MariaDB each gets a shadow of its own).

**What is measured.**

| | PostgreSQL | MySQL / MariaDB |
| --- | --- | --- |
| rewrite | the table's `relfilenode` changes | the InnoDB table id changes; rows written \
(`Handler_write`) by an ALTER: a copy |
| index build / rebuild | an index's `relfilenode` changes (by name) or a new index appears | a new \
InnoDB index id |
| lock | `pg_locks` of the session, before COMMIT (no-transaction statements: watched from other \
sessions) | the cheapest `ALGORITHM=` (INSTANT, NOCOPY, INPLACE, COPY) and `LOCK=` (NONE, SHARED, \
EXCLUSIVE) the server accepts: each refused pair fails before anything changes, the first accepted one \
runs |
| scans, rows | `pg_stat` counters (shared + this backend's pending ones, after \
`pg_stat_clear_snapshot()`): sequential scans, rows read, rows inserted/updated/deleted | handler \
counters of the session |
| validation | constraints that became validated | — |

A statement that accepts INSTANT and still copies or rebuilds is reported as what it did.

**The verdict (DP080).** A measured statement is a hazard when, on a table that exists before its
change, it does work that grows with the table (a rewrite or copy, an index build or rebuild, a scan
that validates rows) while holding a lock that blocks reads or writes, or when it changes at least
half of a table's sampled rows in one unbatched statement with a WHERE (without one, DP042 says it).
The message says what was measured ("measured on a shadow: table rewritten, 2 indexes rebuilt;
ACCESS EXCLUSIVE held until COMMIT, blocking reads and writes on orders") followed by the live
table's size; from a million rows or a GiB on the target the finding is an error. A statement the
shadow refuses is reported with the server's message (a data change refused on the sampled rows is not: a
key taken or a row missing in a sample says nothing of the target's rows) (unless what it makes exists already, or the
sampled rows broke a foreign key, which a sample cannot promise to keep).

**How measurement and rules combine.** For a statement that was measured, these static rules give way
to the measurement, because it settles what they guess: DP001, DP003, DP004, DP005, DP006, DP008,
DP009, DP015, DP016, DP031, DP036, DP037, DP038, DP039, DP059, DP060 (PostgreSQL) and DP051,
DP052, DP053, DP054, DP055 (MySQL/MariaDB). How many rows a data change touches (DP042, DP043, DP044) stays
with the rules, which ask the live table's planner: a 10-row sample cannot tell (DP080 judges
mass DML from the sample only where no live schema was read).
So `ALTER COLUMN v TYPE text` from `varchar(20)` reports
nothing (no rewrite measured), while `TYPE bigint` from `int` reports DP080 with the rewrite. Every
other rule (data loss, running code, transactions, rollbacks, timeouts, style) is reported as
without a server. Statements not measured (rollbacks, the statements after one the shadow refused in
the same change, changes already applied on the target) keep their static findings. Disabling DP080 turns the measured
verdict off and leaves the static rules in charge; an ignore of a settled rule above a statement
does not silence DP080 (ignore DP080 there).

**Dependents (DP081).** For each column or table a statement drops, renames or retypes, the
shadow's catalog (just before the statement runs) names what uses it and what happens to it:
PostgreSQL's `pg_depend` (views, materialized views, foreign keys, generated columns, policies,
triggers, SQL-standard function bodies) and the text of other routine bodies; MySQL/MariaDB's
`information_schema` VIEWS, ROUTINES, TRIGGERS, KEY_COLUMN_USAGE and generated columns. Error when the
server refuses the statement (a view on a dropped column in PostgreSQL), warning when a dependent breaks
or is dropped with it (CASCADE; a MariaDB view on a dropped column), info when it follows a rename.

The cost per statement is measured by `bench/measure.py` (docs/benchmarks.md)."""


HAZARD = """## What counts as a hazard

A warning or an error is lint saying *hazard*; info is a remark worth reading, not an alarm. A
hazard is a statement (or a change) that, on a large and busy table:

1. **blocks other sessions for a time that grows with the table**: it holds a lock that makes reads
   or writes wait (PostgreSQL's lock modes; MariaDB/MySQL refusing `LOCK=NONE`) while it rewrites
   the table, scans it, builds an index or copies rows. A lock held for a catalog change only
   (adding a nullable column, dropping an index, detaching a partition) is not one: the wait does
   not grow with the table, and dualpath runs every statement under a lock timeout;
2. **destroys data or breaks running code**: it drops a table or a column that holds rows, empties
   a table, or makes a query the running application sends fail (renamed or dropped columns,
   tables and views, a renamed enum label, a sequence moved back below values it handed out, a
   NOT NULL column that inserts do not name);
3. **is made hazardous by its transaction**: a data change or a scan that runs while an earlier
   statement of the same transaction holds ACCESS EXCLUSIVE (VALIDATE right after NOT VALID,
   ALTER then a backfill), or CONCURRENTLY inside a transaction, which the server refuses;
4. **is unbatched mass DML**: one statement that changes at least 10% of a table's rows (no
   WHERE, a WHERE that is true for every row, an INSERT ... SELECT of a big table).

Whether a statement is a hazard often depends on the database as it is: the column's current type
(`varchar(10)` to `varchar(50)` keeps the table, `int` to `bigint` rewrites it), a validated CHECK
that proves NOT NULL, a FULLTEXT index on the table, how many rows a WHERE matches. With `--url`
lint reads the server's catalogs and asks its planner (`EXPLAIN`, in a read-only transaction; nothing
runs). Without a server the finding says what it depends on (`depends` in `--format json`) instead
of guessing.

The definition is checked by measurement: `tests/integration/test_catalogue_honesty.py` runs over 250
statements (tests/corpus, both engines, about half of them safe ones that look dangerous) on real
servers, labels each by what the server did (a second session blocked, a new relfilenode, rows
scanned or copied, `ALGORITHM=`/`LOCK=NONE` accepted or refused, data gone, an application query
failing) and asserts that lint agrees. `bench/lint.py` reports recall and false alarms on the same
corpus next to squawk's."""


def pages() -> dict[str, str]:
    rules = all_rules()
    result = {f"{r.id}.md": page(r) for r in rules}
    result["index.md"] = index(rules)
    return result


def stale(folder: Path = HERE) -> list[str]:
    """Pages whose file differs from what the metadata says, or is missing."""
    return [name for name, text in pages().items()
            if not (folder / name).exists() or (folder / name).read_text() != text]


def main(argv: list[str]) -> int:
    if "--check" in argv:
        out_of_date = stale()
        for name in out_of_date:
            print(f"docs/rules/{name} is out of date: run python docs/rules/generate.py")
        return 1 if out_of_date else 0
    for name, text in pages().items():
        (HERE / name).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
