"""What every layout reader shares: reading text, splitting it, building and checking a Change."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NoReturn

from dualpath.changes import Change, Directive, Statement, version_key
from dualpath.directives import parse_directive
from dualpath.errors import InputError
from dualpath.sql import split_with_directives

# directives that describe the whole change, wherever they stand in a forward file
CHANGE_LEVEL = ("no-transaction", "irreversible", "ticket")

IRREVERSIBLE_HINT = 'or mark the change irreversible with -- dualpath:irreversible reason="..."'

_BOM = b"\xef\xbb\xbf"

# `dualpath draft-rollbacks` reads folders whose rollbacks are missing: it is about to write them
_MISSING_ROLLBACKS_OK: ContextVar[bool] = ContextVar("missing_rollbacks_ok", default=False)


@contextmanager
def missing_rollbacks_allowed(allowed: bool) -> Iterator[None]:
    """While inside, a change without a rollback is read (``rollback=()``) instead of refused."""
    token = _MISSING_ROLLBACKS_OK.set(allowed)
    try:
        yield
    finally:
        _MISSING_ROLLBACKS_OK.reset(token)


def missing_rollbacks_ok() -> bool:
    return _MISSING_ROLLBACKS_OK.get()


@dataclass(frozen=True)
class Reader:
    """One migration layout: how to spot its files and how to read them into Changes."""

    name: str
    example: str  # a file name of this layout, shown when nothing is recognised
    find: Callable[[Path], list[Path]]  # the files that show a folder uses this layout
    read: Callable[[Path, str | None], list[Change]]


@dataclass(frozen=True)
class Part:
    """A split piece of SQL: its statements and every directive written in it."""

    statements: tuple[Statement, ...]
    directives: tuple[Directive, ...]


def read_text(path: Path) -> str:
    """Read a file as UTF-8 (a BOM is tolerated) with line endings normalised to LF."""
    data = path.read_bytes()
    if data.startswith(_BOM):
        data = data[len(_BOM):]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} at line {line}; re-save the file as UTF-8",
            where=f"{path}:{line}",
            hint="re-save the file as UTF-8 (most editors offer it under 'Save with encoding')",
        ) from None
    # a lone CR would otherwise shift every line number after it
    return text.replace("\r\n", "\n").replace("\r", "\n")


def split_part(text: str, file: Path | str, dialect: str | None, start_line: int = 1) -> Part:
    statements, directives = split_with_directives(text, file=str(file), start_line=start_line,
                                                   dialect=dialect)
    return Part(tuple(statements), tuple(directives))


def change_directives(directives: Iterable[Directive]) -> tuple[Directive, ...]:
    return tuple(d for d in directives if d.name in CHANGE_LEVEL)


def no_transaction_from(file: Path | str, line: int) -> Directive:
    """A no-transaction directive stated by the layout itself (metadata.toml, transaction:false...)."""
    return Directive(name="no-transaction", args={}, file=str(file), line=line)


def describe(name: str) -> str:
    """File-name descriptions use underscores for spaces."""
    return name.replace("_", " ").strip()


def single_statement(text: str, file: Path | str, start_line: int) -> Part:
    """The whole text as one statement (Liquibase splitStatements:false, endDelimiter chunks).

    Leading blank and comment lines are skipped; directives among them attach to the statement.
    """
    lines = text.split("\n")
    directives: list[Directive] = []
    first = 0
    while first < len(lines) and _is_blank_or_comment(lines[first]):
        found = parse_directive(lines[first], str(file), start_line + first)
        if found:
            directives.append(found)
        first += 1
    body = "\n".join(lines[first:]).rstrip()
    if body.endswith(";"):
        body = body[:-1].rstrip()
    if not body:
        return Part((), tuple(directives))
    statement = Statement(text=body, file=str(file), line=start_line + first,
                          no_transaction=any(d.name == "no-transaction" for d in directives),
                          directives=tuple(directives))
    return Part((statement,), tuple(directives))


def _is_blank_or_comment(line: str) -> bool:
    stripped = line.strip()
    return not stripped or stripped.startswith("--")


_BEGIN = re.compile(r"^\s*(BEGIN|START\s+TRANSACTION|BEGIN\s+(TRANSACTION|WORK))\s*$", re.IGNORECASE)
_END = re.compile(r"^\s*(COMMIT|END|ROLLBACK)(\s+(TRANSACTION|WORK))?\s*$", re.IGNORECASE)


def drop_transaction_control(statements: Sequence[Statement]) -> tuple[tuple[Statement, ...], bool]:
    """Drop a leading BEGIN and a trailing COMMIT/ROLLBACK: dualpath manages transactions itself.

    Directives attached to a dropped BEGIN move to the statement after it.
    """
    kept = list(statements)
    dropped = False
    if kept and _BEGIN.match(kept[0].text):
        first = kept.pop(0)
        dropped = True
        if kept and first.directives:
            kept[0] = _with_directives(kept[0], first.directives)
    if kept and _END.match(kept[-1].text):
        kept.pop()
        dropped = True
    return tuple(kept), dropped


def _with_directives(statement: Statement, extra: tuple[Directive, ...]) -> Statement:
    directives = extra + statement.directives
    no_tx = statement.no_transaction or any(d.name == "no-transaction" for d in extra)
    return replace(statement, directives=directives, no_transaction=no_tx)


def require_statements(part: Part, file: Path | str, line: int = 1, what: str = "") -> None:
    """An empty migration is almost always a mistake (a save that did not happen, a wrong file)."""
    if part.statements:
        return
    label = what or Path(file).name
    raise InputError(f"empty migration: {label} has no SQL statements", where=f"{file}:{line}",
                     hint="write the SQL for this change, or delete the file if it is not needed")


def require_rollback(version: str, forward: Part, rollback: Part | None, expected: str,
                     where: str) -> None:
    """A change needs a rollback unless it says, with a reason, that it has none."""
    if rollback is not None and rollback.statements:
        return
    if missing_rollbacks_ok():
        return
    if any(d.name == "irreversible" for d in forward.directives):
        return
    reason = "" if rollback is None else f" ({expected} has no SQL statements)"
    raise InputError(f"no rollback for version {version}{reason}", where=where,
                     hint=f"add {expected} {IRREVERSIBLE_HINT}")


def build_change(*, version: str, description: str, forward: Part, rollback: Part | None,
                 file: Path | str, layout: str, line: int = 1, rollback_file: Path | str | None = None,
                 directives: Sequence[Directive] = (), extra: dict[str, Any] | None = None) -> Change:
    """A Change from split parts; change-level directives are collected from the forward part."""
    return Change(
        version=version,
        description=description,
        forward=forward.statements,
        rollback=rollback.statements if rollback else (),
        file=str(file),
        line=line,
        rollback_file=str(rollback_file) if rollback_file else None,
        directives=tuple(directives) + change_directives(forward.directives),
        layout=layout,
        extra=dict(extra or {}),
    )


def visible_files(folder: Path) -> list[Path]:
    """Top-level entries, sorted, without hidden files (editor swap files, .DS_Store)."""
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


@dataclass
class Pair:
    """The forward and rollback files that share one version."""

    version: str
    name: str
    forward: Path | None = None
    rollback: Path | None = None


def same_version_key(version: str) -> tuple[int, ...]:
    """Versions that are equal as numbers (1, 1.0, 01) are the same version."""
    key = list(version_key(version))
    while len(key) > 1 and key[-1] == 0:
        key.pop()
    return tuple(key)


def pair_files(entries: Iterable[tuple[str, str, bool, Path]]) -> list[Pair]:
    """Group (version, name, is_forward, path) entries by version; two files in one slot is an error."""
    pairs: dict[tuple[int, ...], Pair] = {}
    # forward files first, so a duplicate is reported between the files people think of
    for version, name, is_forward, path in sorted(entries, key=lambda e: not e[2]):
        pair = pairs.setdefault(same_version_key(version), Pair(version, name))
        slot = pair.forward if is_forward else pair.rollback
        if slot is not None:
            raise_duplicate(version, slot, path)
        if is_forward:
            pair.forward, pair.version, pair.name = path, version, name
        else:
            pair.rollback = path
    return list(pairs.values())


def raise_duplicate(version: str, first: Path | str, second: Path | str) -> NoReturn:
    raise InputError(f"duplicate version {version}: {first} and {second}", where=f"{second}:1",
                     hint="give one of them a new, higher version number")


def raise_orphan_rollback(version: str, rollback: Path, expected: str) -> NoReturn:
    raise InputError(f"rollback without forward: {rollback.name} undoes version {version}, "
                     f"which has no forward migration", where=f"{rollback}:1",
                     hint=f"add {expected}, or delete {rollback.name} if the change was removed")


def read_pair(pair: Pair, *, layout: str, dialect: str | None, description: str,
              expected_forward: str, expected_rollback: str,
              directives: Sequence[Directive] = ()) -> Change:
    """Read a forward file and its rollback file (layouts with one file per direction)."""
    if pair.forward is None:
        assert pair.rollback is not None
        raise_orphan_rollback(pair.version, pair.rollback, expected_forward)
    forward = split_part(read_text(pair.forward), pair.forward, dialect)
    require_statements(forward, pair.forward)
    rollback = None
    if pair.rollback is not None:
        rollback = split_part(read_text(pair.rollback), pair.rollback, dialect)
    where = f"{pair.rollback or pair.forward}:1"
    require_rollback(pair.version, forward, rollback, expected_rollback, where)
    return build_change(version=pair.version, description=description, forward=forward,
                        rollback=rollback, file=pair.forward, layout=layout,
                        rollback_file=pair.rollback, directives=directives)
