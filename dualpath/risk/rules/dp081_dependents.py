from collections.abc import Iterable
from typing import ClassVar

from dualpath.risk.context import Context
from dualpath.risk.measure.observation import Dependent, Measurement
from dualpath.risk.model import Finding
from dualpath.risk.rule import Case, Rule


class Dependents(Rule):
    """Reported from the server's catalog (``lint --url``, ``plan``): see risk/measure/dependents.py."""

    id = "DP081"
    title = "something on the server uses what the statement drops, renames or retypes"
    severity = "warning"
    engines = ("postgresql", "mysql")
    scope = "measured"
    why = ("The server's catalog names what uses the column or table: views, materialized views, functions and "
           "procedures (tracked bodies and the text of the others), triggers, foreign keys, generated columns, "
           "policies. PostgreSQL refuses to drop or retype a column a view, policy, trigger or generated column "
           "depends on, and with CASCADE drops them silently; MySQL/MariaDB refuses what a foreign key needs and "
           "lets views, routines and triggers break when next used. A rename carries tracked objects along but "
           "breaks every body kept as text. Severity: error when the server refuses the statement, warning "
           "when a dependent breaks or goes, info when it follows.")
    alternative = ("Change the dependents in the same change first (drop and re-create the view without the "
                   "column, rewrite the function), or keep the column and stop using it, dropping it in a later "
                   "change once nothing depends on it.")
    fix = "change or drop the dependents first, in the same change, or keep the column for now"
    bad = "ALTER TABLE customers DROP COLUMN name;"
    good = "ALTER TABLE customers DROP COLUMN legacy_code;"
    # what the catalog named for each example: a view selecting customers.name
    example_measurement: ClassVar[dict[str, Measurement]] = {
        "bad": Measurement(dependents={"DP081-bad.sql:1": [Dependent(
            "DP081-bad.sql:1", "customers.name", "view", "customer_names",
            "PostgreSQL refuses the statement while this view depends on it; with CASCADE the view would be "
            "dropped silently", "error")]}),
        "good": Measurement(),
    }

    cases = (
        Case("ALTER TABLE customers RENAME COLUMN name TO full_name;", True,
             measurement=Measurement(dependents={"DP081-case.sql:1": [Dependent(
                 "DP081-case.sql:1", "customers.name", "function", "greet",
                 "its body is kept as text and still names customers.name: it fails when next called", "warning")]}),
             note="a rename carries views along but breaks a function body kept as text"),
        Case("ALTER TABLE customers DROP COLUMN name;\nALTER TABLE customers DROP COLUMN legacy_code;", False,
             measurement=Measurement(dependents={"DP081-case.sql:7": [Dependent(
                 "DP081-case.sql:7", "customers.name", "view", "customer_names", "dropped", "error")]}),
             note="a dependent named for another statement's line is not this change's"),
        Case("ALTER TABLE customers DROP COLUMN name;", False,
             note="without --url the catalog is not read: nothing to report"),
    )

    def check(self, ctx: Context) -> Iterable[Finding]:
        from dualpath.risk.measure.verdict import dependent_findings

        return dependent_findings(self, ctx)


RULE = Dependents()
