from collections.abc import Iterable
from typing import ClassVar

from dualpath.risk.context import Context
from dualpath.risk.model import Finding, Measured
from dualpath.risk.rule import ALL_ENGINES, Case, Rule


class RehearsalStrongerLock(Rule):
    """Only a lock rehearsal on a shadow (``dualpath verify``, ``plan --rehearse``) reports this rule."""

    id = "DP062"
    title = "measured lock stronger than the catalogue predicts"
    severity = "warning"
    engines = ALL_ENGINES
    scope = "rehearsal"
    why = ("The lock rehearsal ran the statement on a shadow of the target and measured the lock it really "
           "took (pg_locks of the session; on MySQL/MariaDB a blocking probe from other sessions). It is "
           "stronger than the risk engine's catalogue predicts for this engine and version, so every other "
           "finding, estimate and runbook gate about this statement understates what other sessions will "
           "wait for. For example `CREATE TABLE ... REFERENCES customers` takes SHARE ROW EXCLUSIVE on "
           "`customers`: writes to customers wait until the migration's transaction ends.")
    alternative = ("Plan the statement with the measured lock: run it in a window or under a short lock "
                   "timeout with retries, keep its transaction short, and report the statement as a test case "
                   "for dualpath's catalogue (`tests/integration/test_catalogue_honesty.py`).")
    fix = "plan this statement with the measured lock (window, lock timeout), and report the catalogue row"
    bad = "CREATE TABLE invoices (id bigint PRIMARY KEY, customer_id bigint REFERENCES customers (id));"
    good = bad
    # what the rehearsal measured for each example (its line 1): the case that taught the catalogue
    # that a new table's foreign key locks the table it references
    example_measured: ClassVar[dict[str, tuple[Measured, ...]]] = {
        "bad": (Measured("1", "DP062-bad.sql:1", "customers", "reference_table", "none", False,
                         "SHARE ROW EXCLUSIVE", False, True, method="pg_locks of the session, before COMMIT"),),
        "good": (Measured("1", "DP062-good.sql:1", "customers", "reference_table", "SHARE ROW EXCLUSIVE", False,
                          "SHARE ROW EXCLUSIVE", False, False, method="pg_locks of the session, before COMMIT"),),
    }

    cases = (
        Case("ALTER TABLE orders ADD COLUMN note text;", False,
             measured=(Measured("1", "DP062-case.sql:1", "orders", "add_column", "ACCESS EXCLUSIVE", False,
                                "ACCESS EXCLUSIVE", False, False),),
             note="measured what the catalogue predicts"),
        Case("ALTER TABLE orders ADD COLUMN note text;", False,
             measured=(Measured("2", "DP062-case.sql:1", "customers", "reference_table", "none", False,
                                "SHARE ROW EXCLUSIVE", False, True),),
             note="a stronger lock measured for another version's statement on the same line"),
        Case("ALTER TABLE orders ADD COLUMN note text;", True,
             measured=(Measured("1", "DP062-case.sql:1", "ddl_audit", "event_trigger", "none", False,
                                "ROW EXCLUSIVE", False, True),),
             note="an event trigger wrote to ddl_audit: a lock on a table the statement does not name"),
        Case("ALTER TABLE orders ADD COLUMN note text;", False,
             measured=(Measured("1", "DP062-case.sql:1", "orders", "add_column", "ACCESS EXCLUSIVE", False,
                                None, None, False, note="locks are not readable on this engine"),),
             note="nothing measurable (no lock read): no claim either way"),
    )

    def check(self, ctx: Context) -> Iterable[Finding]:
        for item in ctx.forward:
            for m in ctx.measured:
                if m.stronger and m.where == item.statement.where and m.version == ctx.change.version:
                    yield ctx.finding(self, item, self.message(m), table=m.table)

    @staticmethod
    def message(m: Measured) -> str:
        how = f" [{m.method}]" if m.method else ""
        return (f"{m.measured_lock} measured on {m.table} ({m.operation}); the catalogue predicts "
                f"{m.predicted_lock}{how}")

    def check_measured(self, measured: Iterable[Measured]) -> Iterable[Finding]:
        """``dualpath verify`` reports the rehearsal alone: a finding per table measured stronger."""
        for m in measured:
            if m.stronger:
                file, _, line = m.where.rpartition(":")
                yield Finding(rule=self.id, severity=self.severity, file=file, line=int(line or 1),
                              version=m.version, title=self.title, message=self.message(m), fix=self.fix)


RULE = RehearsalStrongerLock()
