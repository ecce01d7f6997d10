"""Parse ``-- dualpath:<name> key=value key="quoted value"`` comments.

Directives are how a migration file tells dualpath what SQL alone cannot: that a change
is irreversible and why, that it must run outside a transaction, how to batch a mass
update, which ticket it belongs to, which lint finding is accepted.
"""

from __future__ import annotations

import difflib
import re
import shlex
from collections.abc import Callable

from dualpath.changes import Directive
from dualpath.errors import InputError

_PREFIX = re.compile(r"^\s*--\s*dualpath:(?P<name>[A-Za-z][\w-]*)(?P<rest>.*)$")
_INT = re.compile(r"^\d+$")
_IDENT = re.compile(r"^[A-Za-z_][\w$]*$")
_BATCH_ARGS = {"table", "key", "size", "pause_ms", "target_ms", "max_rows_per_s", "max_lag_ms"}
_DAY_MS = 24 * 3600 * 1000
# what each number may be: a chunk grows to 10x size in a 32-bit checkpoint column, a pause is slept
_BATCH_RANGES = {"size": (1, 100_000_000), "pause_ms": (0, _DAY_MS), "target_ms": (1, _DAY_MS),
                 "max_rows_per_s": (0, 1_000_000_000), "max_lag_ms": (0, _DAY_MS)}


def _need(*keys: str) -> Callable[[dict[str, str]], str | None]:
    def check(args: dict[str, str]) -> str | None:
        missing = [k for k in keys if not args.get(k)]
        return f"needs {', '.join(k + '=...' for k in missing)}" if missing else None

    return check


def _check_batch(args: dict[str, str]) -> str | None:
    missing = _need("table", "key")(args)
    if missing:
        return missing
    for name, (low, high) in _BATCH_RANGES.items():
        if name in args and not _INT.match(args[name]):
            return f"{name}={args[name]!r} is not a whole number"
        if name in args and not low <= int(args[name]) <= high:
            return f"{name}={args[name]} is out of range: it must be from {low:,} to {high:,}"
    columns = [c.strip() for c in args["key"].split(",")]
    if not all(_IDENT.match(c) for c in columns) or len(set(columns)) != len(columns):
        return f"key={args['key']!r} is not a column name or a list of distinct ones (key=a,b)"
    if not all(_IDENT.match(part) for part in args["table"].split(".")) or args["table"].count(".") > 1:
        return f"table={args['table']!r} is not a table name (table or schema.table)"
    unknown = sorted(set(args) - _BATCH_ARGS)
    return f"unknown argument {unknown[0]}= (known: {', '.join(sorted(_BATCH_ARGS))})" if unknown else None


def _no_args(args: dict[str, str]) -> str | None:
    return f"takes no arguments, got {' '.join(args)}" if args else None


def _check_ignore(args: dict[str, str]) -> str | None:
    if not args.get("rules"):
        return "names the rule ids it ignores, e.g. -- dualpath:ignore DP012 reason=\"...\""
    return _need("reason")(args)


# name -> validator returning a problem description, or None when the arguments are fine
KNOWN: dict[str, Callable[[dict[str, str]], str | None]] = {
    "no-transaction": _no_args,
    "irreversible": _need("reason"),
    "batch": _check_batch,
    "ticket": _need("id"),
    "ignore": _check_ignore,
    "category": _need("name"),
}

# the first bare word of these directives is stored under this key
_POSITIONAL = {"ticket": "id", "ignore": "rules", "category": "name"}


def parse_directive(line: str, file: str, lineno: int) -> Directive | None:
    """Return the directive on this line, None when the line is not one; raise on a bad one."""
    match = _PREFIX.match(line)
    if not match:
        return None
    name = match.group("name").lower()
    where = f"{file}:{lineno}"
    if name not in KNOWN:
        near = difflib.get_close_matches(name, KNOWN, n=1)
        hint = f"did you mean 'dualpath:{near[0]}'?" if near else f"known directives: {', '.join(KNOWN)}"
        raise InputError(f"unknown directive 'dualpath:{name}'", where=where, hint=hint)
    args = _parse_args(match.group("rest"), name, where)
    problem = KNOWN[name](args)
    if problem:
        raise InputError(f"malformed directive 'dualpath:{name}': {problem}", where=where,
                         hint="see docs/directives.md for the accepted form")
    return Directive(name=name, args=args, file=file, line=lineno)


def _parse_args(rest: str, name: str, where: str) -> dict[str, str]:
    try:
        words = shlex.split(rest, comments=False, posix=True)
    except ValueError as exc:
        raise InputError(f"malformed directive 'dualpath:{name}': {exc}", where=where,
                         hint='close the quote, e.g. reason="drops legacy data"') from None
    args: dict[str, str] = {}
    bare: list[str] = []
    for word in words:
        key, eq, value = word.partition("=")
        if eq:
            if not key:
                raise InputError(f"malformed directive 'dualpath:{name}': '={value}' has no name",
                                 where=where, hint="write key=value")
            args[key.lower()] = value
        else:
            bare.append(word)
    if bare:
        positional = _POSITIONAL.get(name)
        if positional is None:
            raise InputError(f"malformed directive 'dualpath:{name}': unexpected '{bare[0]}'",
                             where=where, hint="arguments are written key=value")
        args.setdefault(positional, ",".join(bare))
    return args
