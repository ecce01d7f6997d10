"""Find the rules: every module in ``dualpath.risk.rules`` that defines a ``RULE``."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from dualpath.errors import UsageError
from dualpath.risk import rules as rules_package
from dualpath.risk.rule import Rule


@cache
def all_rules() -> tuple[Rule, ...]:
    found = []
    for module in pkgutil.iter_modules(rules_package.__path__):
        if module.name.startswith("dp"):
            found.append(importlib.import_module(f"{rules_package.__name__}.{module.name}").RULE)
    return tuple(sorted(found, key=lambda r: r.id))


def rule_ids() -> list[str]:
    return [r.id for r in all_rules()]


def rules_for(family: str, disabled: set[str] | frozenset[str] = frozenset()) -> list[Rule]:
    return list(_rules_for(family, frozenset(disabled)))


@cache
def _rules_for(family: str, disabled: frozenset[str]) -> tuple[Rule, ...]:  # asked once per change
    check_rule_ids(disabled)
    wanted = {d.upper() for d in disabled}
    return tuple(r for r in all_rules() if family in r.engines and r.id not in wanted)


def check_rule_ids(ids: set[str] | frozenset[str]) -> None:
    """An unknown id in config or on the command line is a usage error (exit 2)."""
    known = set(rule_ids()) | {"DP000"}
    unknown = sorted(i for i in ids if i.upper() not in known)
    if unknown:
        raise UsageError(f"unknown rule id(s): {', '.join(unknown)}",
                         hint=f"valid rule ids: {', '.join(sorted(known))}")
