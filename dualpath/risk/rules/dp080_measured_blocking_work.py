from collections.abc import Iterable
from typing import ClassVar

from dualpath.risk.context import Context
from dualpath.risk.measure.observation import Measurement, Observation, TableWork
from dualpath.risk.model import Finding
from dualpath.risk.rule import Case, Rule


def shadow(line: int, *work: TableWork) -> Measurement:
    """What the shadow measured for line ``line`` of an edge case (10 sampled rows a table)."""
    where = f"DP080-case.sql:{line}"
    return Measurement(observations={where: Observation("1", where, work)}, sample_rows=10)


class MeasuredBlockingWork(Rule):
    """Reported from a measurement on a shadow of the target (``lint --url``, ``plan``): see risk/measure."""

    id = "DP080"
    title = "measured on a shadow: work that grows with the table under a blocking lock"
    severity = "warning"
    engines = ("postgresql", "mysql")
    scope = "measured"
    why = ("dualpath ran the statement, in its change's transaction, on a shadow holding the target's schema and "
           "a sample of its rows, and watched what it did: the table's and indexes' storage before and after "
           "(a rewrite, an index rebuild), the locks its transaction holds, the rows it scanned and wrote, and on "
           "MySQL/MariaDB the cheapest ALGORITHM and LOCK the server accepts. It did work that takes longer the "
           "bigger the table while holding a lock that blocks reads or writes (or changed most of the table's rows "
           "in one unbatched statement): on the live table, everyone else waits that long. The size shown is the "
           "live table's; from a million rows or a GiB the finding is an error.")
    alternative = ("Do it without the blocking lock: a new column backfilled in batches instead of a type change, "
                   "CREATE INDEX CONCURRENTLY, NOT VALID then VALIDATE in a later transaction, ALGORITHM=INPLACE "
                   "or INSTANT with LOCK=NONE where the server offers it, `-- dualpath:batch` for data changes; or "
                   "run it in a maintenance window.")
    fix = "use the non-blocking form (see the rule's page), batch the data change, or plan a window"
    bad = "ALTER TABLE orders ALTER COLUMN total TYPE bigint;"
    good = "ALTER TABLE orders ALTER COLUMN note TYPE text;"
    # what the shadow measured for each example (PostgreSQL 15, orders with 10 sampled rows, varchar note)
    example_measurement: ClassVar[dict[str, Measurement]] = {
        "bad": Measurement(observations={"DP080-bad.sql:1": Observation("1", "DP080-bad.sql:1", (TableWork(
            "orders", True, "ACCESS EXCLUSIVE", rewritten=True, indexes_rebuilt=("orders_pkey", "orders_total_idx"),
            scans=3, rows_read=30),))}, sample_rows=10),
        "good": Measurement(observations={"DP080-good.sql:1": Observation("1", "DP080-good.sql:1", (TableWork(
            "orders", True, "ACCESS EXCLUSIVE"),))}, sample_rows=10),
    }

    cases = (
        Case("ALTER TABLE orders VALIDATE CONSTRAINT orders_total_positive;", False,
             measurement=shadow(1, TableWork("orders", True, "SHARE UPDATE EXCLUSIVE", scans=1,
                                             validated=("orders_total_positive",))),
             note="VALIDATE scans every row under SHARE UPDATE EXCLUSIVE: reads and writes go on"),
        Case("ALTER TABLE orders ADD CONSTRAINT orders_total_positive CHECK (total >= 0) NOT VALID;\n"
             "ALTER TABLE orders VALIDATE CONSTRAINT orders_total_positive;", True,
             measurement=shadow(2, TableWork("orders", True, "ACCESS EXCLUSIVE", held_before=True, scans=1,
                                             validated=("orders_total_positive",))),
             note="the same scan while the ACCESS EXCLUSIVE taken by the ADD in this transaction is still held"),
        Case("CREATE TABLE totals (id bigint PRIMARY KEY, total int);\n"
             "ALTER TABLE totals ALTER COLUMN total TYPE bigint;", False,
             measurement=shadow(2, TableWork("totals", False, "ACCESS EXCLUSIVE", rewritten=True)),
             note="a rewrite of a table created earlier in the change: nobody else uses it"),
        Case("TRUNCATE orders;", False,
             measurement=shadow(1, TableWork("orders", True, "ACCESS EXCLUSIVE", rewritten=True)),
             note="TRUNCATE gets new storage but does no work per row (DP021 is about it)"),
        Case("ALTER TABLE orders ALTER COLUMN total TYPE bigint;", False,
             note="without a shadow (no --url) nothing is measured: the static rules judge alone"),
        Case("ALTER TABLE orders FORCE;", False, dialect="mysql",
             measurement=shadow(1, TableWork("orders", True, rewritten=True, algorithm="INPLACE", lock_clause="NONE")),
             note="mysql: rebuilt in place with LOCK=NONE: reads and writes go on (DP052 notes the rebuild)"),
        Case("ALTER TABLE orders MODIFY total DECIMAL(14, 2) NOT NULL;", True, dialect="mysql",
             measurement=shadow(1, TableWork("orders", True, rewritten=True, rows_written=10, algorithm="COPY")),
             note="mysql: ALGORITHM=COPY, the lock not readable: a copy holds at least LOCK=SHARED"),
        Case("UPDATE orders SET state = 'open' WHERE state IS NULL;", True,
             measurement=shadow(1, TableWork("orders", True, "ROW EXCLUSIVE", scans=1, rows_read=10,
                                             rows_written=8, sample_rows=10)),
             note="no blocking lock, but 8 of 10 sampled rows changed in one unbatched statement"),
    )

    def check(self, ctx: Context) -> Iterable[Finding]:
        from dualpath.risk.measure.verdict import measured_findings

        return measured_findings(self, ctx)


RULE = MeasuredBlockingWork()
