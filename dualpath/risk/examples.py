"""Run a rule's own bad/good examples: used by the tests and by the generated docs."""

from __future__ import annotations

from dualpath.changes import Change
from dualpath.risk.catalogue import catalogue_for, family_of
from dualpath.risk.check import check_change
from dualpath.risk.model import Finding
from dualpath.risk.rule import Case, Rule
from dualpath.sql import split_statements


def example_dialect(rule: Rule) -> str:
    return rule.example_dialect or rule.engines[0]


def example_change(rule: Rule, which: str) -> Change:
    """The ``bad`` or ``good`` example as a change (with its rollback for change rules)."""
    dialect = family_of(example_dialect(rule))
    sql = rule.bad if which == "bad" else rule.good
    rollback = rule.bad_rollback if which == "bad" else rule.good_rollback
    forward = split_statements(sql, file=f"{rule.id}-{which}.sql", dialect=dialect)
    back = split_statements(rollback, file=f"{rule.id}-{which}.down.sql", dialect=dialect) if rollback else []
    return Change(version="1", description=f"{rule.id} {which} example", forward=tuple(forward),
                  rollback=tuple(back), file=f"{rule.id}-{which}.sql", layout="example")


def example_findings(rule: Rule, which: str) -> list[Finding]:
    catalogue = catalogue_for(example_dialect(rule), rule.example_version)
    measured = getattr(rule, "example_measured", {}).get(which, ())  # rehearsal rules: what was measured
    measurement = getattr(rule, "example_measurement", {}).get(which)  # measured rules: the shadow's account
    return check_change(example_change(rule, which), catalogue, knows_rollback=rule.scope == "change",
                        measured=measured, measurement=measurement)


def case_findings(rule: Rule, case: Case) -> list[Finding]:
    """What lint reports on one of the rule's edge cases (a change when the case has a rollback)."""
    dialect = case.dialect or example_dialect(rule)
    family = family_of(dialect)
    forward = split_statements(case.sql, file=f"{rule.id}-case.sql", dialect=family)
    back = split_statements(case.rollback, file=f"{rule.id}-case.down.sql", dialect=family) if case.rollback else []
    change = Change(version="1", description=f"{rule.id} case", forward=tuple(forward), rollback=tuple(back),
                    file=f"{rule.id}-case.sql", layout="example")
    return check_change(change, catalogue_for(dialect, case.version or rule.example_version),
                        knows_rollback=rule.scope == "change" or case.rollback is not None,
                        measured=case.measured, measurement=case.measurement, schema=case.schema)
