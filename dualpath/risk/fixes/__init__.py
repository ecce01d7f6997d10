"""Mechanical rewrites of unsafe statements into their safe form: one fix per module.

Each module ``dpNNN_<what>.py``, named like the rule it answers, exports ``FIX``, a ``Fix`` that
names the rule(s) it answers and turns one statement into a ``Rewrite`` — or a ``Skip`` saying why
it cannot be done by machine.
``dualpath.risk.fixes.files`` finds the statements, applies the rewrites and keeps every other byte.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from dataclasses import dataclass
from functools import cache
from typing import Any, ClassVar

from dualpath.risk.context import Context, Item
from dualpath.risk.model import Finding

NO_TRANSACTION = "-- dualpath:no-transaction"
MAX_IDENT = 63  # PostgreSQL truncates longer names


@dataclass(frozen=True)
class Rewrite:
    """What replaces one statement.

    ``statements`` replace its text (without the final delimiter, which stays in the file);
    ``above`` are comment lines put right above it; ``no_transaction`` says the result only
    helps when each statement commits on its own.
    """

    statements: tuple[str, ...]
    above: tuple[str, ...] = ()
    no_transaction: bool = False


@dataclass(frozen=True)
class Skip:
    """A finding the fix leaves alone, and why."""

    reason: str


@dataclass(frozen=True)
class Known:
    """What the whole migration set tells, beyond the one change being fixed."""

    primary_keys: dict[str, str]  # table -> its single-column primary key


class Fix:
    rules: ClassVar[tuple[str, ...]]
    engines: ClassVar[tuple[str, ...]] = ("postgresql",)
    summary: ClassVar[str]  # one line for docs and output

    def rewrite(self, ctx: Context, item: Item, finding: Finding, known: Known) -> Rewrite | Skip:
        raise NotImplementedError


@cache
def all_fixes() -> tuple[Fix, ...]:
    found = []
    for module in pkgutil.iter_modules(__path__):
        if module.name.startswith("dp"):
            found.append(importlib.import_module(f"{__name__}.{module.name}").FIX)
    return tuple(sorted(found, key=lambda f: f.rules[0]))


def fixes_by_rule(family: str) -> dict[str, Fix]:
    return {rule: fix for fix in all_fixes() if family in fix.engines for rule in fix.rules}


# --- helpers the PostgreSQL fixes share ---------------------------------------------------------

_PLAIN = re.compile(r"[a-z_][a-z0-9_$]*")


def quote_ident(name: str) -> str:
    """An identifier as PostgreSQL reads it back unchanged (names from the parser are already folded)."""
    from pglast.keywords import COL_NAME_KEYWORDS, RESERVED_KEYWORDS, TYPE_FUNC_NAME_KEYWORDS

    if _PLAIN.fullmatch(name) and name not in RESERVED_KEYWORDS | TYPE_FUNC_NAME_KEYWORDS | COL_NAME_KEYWORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


def relation_sql(rel: Any) -> str:
    parts = [rel.schemaname, rel.relname] if rel.schemaname else [rel.relname]
    return ".".join(quote_ident(str(p)) for p in parts)


def name_for(*parts: str) -> str:
    """A constraint or index name the way PostgreSQL builds its own: joined by ``_``, cut to 63 bytes."""
    name = "_".join(p for p in parts if p)
    while len(name.encode()) > MAX_IDENT:
        name = name[:-1]
    return name


def one_alter_command(text: str) -> tuple[Any, Any] | Skip:
    """The ALTER TABLE statement and its only command, parsed; Skip when it has several."""
    from pglast import ast, parse_sql

    raws = parse_sql(text)
    if len(raws) != 1 or not isinstance(raws[0].stmt, ast.AlterTableStmt):
        return Skip("not a single ALTER TABLE statement")
    stmt = raws[0].stmt
    cmds = stmt.cmds or ()
    if len(cmds) != 1:
        return Skip("the ALTER TABLE does several things: write one statement per action first")
    if stmt.relation is None or stmt.relation.inh is False:
        return Skip("ALTER TABLE ONLY: rewrite it by hand")
    return stmt, cmds[0]
