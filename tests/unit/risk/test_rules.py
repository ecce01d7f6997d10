"""Every rule reports its own bad example and stays quiet on its good one."""

from __future__ import annotations

import pytest

from dualpath.risk.examples import case_findings, example_findings
from dualpath.risk.registry import all_rules
from dualpath.risk.rule import Case, Rule

RULES = all_rules()


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_bad_example_is_reported(rule: Rule) -> None:
    found = example_findings(rule, "bad")
    assert rule.id in {f.rule for f in found}, found
    assert "DP000" not in {f.rule for f in found}, found


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_good_example_is_clean(rule: Rule) -> None:
    found = example_findings(rule, "good")
    assert rule.id not in {f.rule for f in found}, found
    assert "DP000" not in {f.rule for f in found}, found


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_rule_metadata_is_complete(rule: Rule) -> None:
    assert rule.id.startswith("DP") and len(rule.id) == 5
    assert rule.severity in ("error", "warning", "info")
    for text in (rule.title, rule.why, rule.alternative, rule.fix, rule.bad, rule.good):
        assert text.strip()
    assert set(rule.engines) <= {"postgresql", "mysql", "sqlite"}


def test_ids_are_unique_and_there_are_enough() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 45


CASES = [(rule, case) for rule in RULES for case in rule.cases]


@pytest.mark.parametrize(("rule", "case"), CASES,
                         ids=[f"{r.id}-{n}" for n, (r, _) in enumerate(CASES)])
def test_edge_case(rule: Rule, case: Case) -> None:
    found = case_findings(rule, case)
    assert (rule.id in {f.rule for f in found}) is case.reported, (case.note, found)
    assert "DP000" not in {f.rule for f in found}, (case.note, found)


def test_a_rehearsal_alone_reports_each_stronger_lock_at_its_statement() -> None:
    from dualpath.risk.check import check_rehearsal
    from dualpath.risk.model import Measured

    stronger = Measured("3", "V3__fk.sql:7", "customers", "reference_table", "none", False,
                        "SHARE ROW EXCLUSIVE", False, True, method="pg_locks of the session, before COMMIT")
    as_predicted = Measured("3", "V3__fk.sql:9", "orders", "add_column", "ACCESS EXCLUSIVE", False,
                            "ACCESS EXCLUSIVE", False, False)
    [finding] = check_rehearsal([stronger, as_predicted])
    assert (finding.rule, finding.file, finding.line, finding.version) == ("DP062", "V3__fk.sql", 7, "3")
    assert "SHARE ROW EXCLUSIVE measured on customers" in finding.message
