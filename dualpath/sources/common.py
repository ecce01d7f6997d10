"""What every layout reader shares: reading text, splitting it, building and checking a Change."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, NoReturn, cast

from dualpath.changes import ROLLBACK_MARK, Change, Directive, Statement, any_session_change, feed_checksum, version_key
from dualpath.directives import parse_directive
from dualpath.errors import InputError
from dualpath.sources.files import check_path, iter_text, list_folder, read_text
from dualpath.sources.lazy import LAZY_BYTES, FileStatements, stamp_of
from dualpath.sql import split_with_directives
from dualpath.sql.stream import iter_split

__all__ = ["read_text", "present"]

# directives that describe the whole change, wherever they stand in a forward file
CHANGE_LEVEL = ("no-transaction", "irreversible", "ticket")

IRREVERSIBLE_HINT = 'or mark the change irreversible with -- dualpath:irreversible reason="..."'

MissingPolicy = Literal["refuse", "irreversible", "allow"]
MISSING_POLICIES: tuple[str, ...] = ("refuse", "irreversible", "allow")
MISSING_SETTING = "[rollback] missing"

# what a change without a way back (no rollback file, or one that runs nothing) is read as; set by
# read_changes from the [rollback] missing setting (`dualpath draft-rollbacks` reads with "allow")
_MISSING_POLICY: ContextVar[str] = ContextVar("missing_rollbacks", default="refuse")
# what a reader read as its tool does but a user may not expect (a file that runs nothing, a file ignored)
_NOTES: ContextVar[list[str] | None] = ContextVar("reading_notes", default=None)


@contextmanager
def missing_rollbacks(policy: str, notes: list[str] | None = None) -> Iterator[None]:
    """While inside, changes without a rollback are read as ``policy`` says; notes go to ``notes``."""
    if policy not in MISSING_POLICIES:
        raise InputError(f"setting '{MISSING_SETTING}': unknown value {policy!r}", where=None,
                         hint=f"use one of: {', '.join(MISSING_POLICIES)}")
    token, notes_token = _MISSING_POLICY.set(policy), _NOTES.set(notes)
    try:
        yield
    finally:
        _MISSING_POLICY.reset(token)
        _NOTES.reset(notes_token)


def missing_policy() -> str:
    return _MISSING_POLICY.get()


def note(text: str) -> None:
    """Tell whoever reads the folder (``dualpath detect``) about something read quietly."""
    found = _NOTES.get()
    if found is not None and text not in found:
        found.append(text)


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

    statements: Sequence[Statement]
    directives: tuple[Directive, ...]


def read_script(path: Path, dialect: str | None, checksum: Any = None,
                drop_transaction: bool = False, psql: bool = False) -> tuple[Part, bool]:
    """A whole file of SQL as a Part, fed to ``checksum`` (a hashlib object) if given; with
    ``drop_transaction`` a wrapping BEGIN/COMMIT is dropped (see drop_transaction_control), and the
    second value says whether one was; ``psql``: the file is run by psql (sql/split.py). A big file is
    scanned once and its statements are read from it again when they run (sources/lazy.py), so memory
    follows the largest statement."""
    if os.stat(check_path(path)).st_size <= LAZY_BYTES:
        part = split_part(read_text(path), path, dialect, psql=psql)
        statements, dropped = drop_transaction_control(part.statements) if drop_transaction else (
            part.statements, False)
        if checksum is not None:
            feed_checksum(checksum, statements)
        return Part(statements, part.directives), dropped
    return _scan(path, dialect, checksum, drop_transaction)


def _scan(path: Path, dialect: str | None, checksum: Any, drop_transaction: bool) -> tuple[Part, bool]:
    stamp, digest = stamp_of(path), hashlib.sha256()
    directives: list[Directive] = []
    kept: list[Directive] = []  # the kept statements' own directives
    count, no_transaction, session_change = 0, False, False
    skip_first, moved = False, cast(tuple[Directive, ...], ())
    pending: Statement | None = None  # the latest statement: a COMMIT to drop if it is the last

    def take(statement: Statement) -> None:
        nonlocal count, no_transaction, session_change
        count += 1
        kept.extend(statement.directives)
        no_transaction = no_transaction or statement.no_transaction
        session_change = session_change or any_session_change((statement,))
        if checksum is not None:
            feed_checksum(checksum, (statement,))

    found = iter_split(iter_text(path, digest=digest), file=str(path), dialect=dialect, directives=directives)
    for index, statement in enumerate(found):
        if index == 0 and drop_transaction and _BEGIN.match(statement.text):
            skip_first, moved = True, statement.directives
            continue
        if pending is not None:
            take(pending)
        pending = _with_directives(statement, moved) if moved and pending is None else statement
    skip_last = pending is not None and drop_transaction and bool(_END.match(pending.text))
    if pending is not None and not skip_last:
        take(pending)
    statements = FileStatements(path, dialect, count=count, directives=tuple(kept), no_transaction=no_transaction,
                                session_change=session_change, stamp=stamp, sha256=digest.hexdigest(),
                                skip_first=skip_first, skip_last=skip_last, moved=moved)
    return Part(statements, tuple(directives)), skip_first or skip_last


def split_part(text: str, file: Path | str, dialect: str | None, start_line: int = 1,
               psql: bool = False) -> Part:
    statements, directives = split_with_directives(text, file=str(file), start_line=start_line,
                                                   dialect=dialect, psql=psql)
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
    """A forward that runs nothing is what its tool makes of it: a change that does nothing (diesel,
    golang-migrate, dbmate, Flyway and sqitch record it and move on). Read it so, with a note."""
    if part.statements:
        return
    label = what or Path(file).name
    note(f"{file}:{line}: {label} has no SQL statements; read as its tool reads it, a change that runs nothing")


def require_rollback(version: str, forward: Part, rollback: Part | None, expected: str,
                     where: str, message: str | None = None) -> tuple[Directive, ...]:
    """A change without a way back (no rollback, or one that runs nothing) is read as the
    ``[rollback] missing`` policy says: refused, irreversible (the directive returned here makes it
    so, exactly like ``-- dualpath:irreversible``), or allowed (its rollback is a no-op)."""
    if rollback is not None and rollback.statements:
        return ()
    if not forward.statements:
        return ()  # a change that runs nothing has nothing to undo
    if any(d.name == "irreversible" for d in forward.directives):
        return ()
    policy = missing_policy()
    how = f"{expected} is missing" if rollback is None else f"{expected} runs nothing"
    if policy == "allow":
        return ()
    if policy == "irreversible":
        file, _, line = where.rpartition(":")
        reason = (f"no way back: {how}; read as irreversible by {MISSING_SETTING} = \"irreversible\" "
                  f"(\"allow\" runs its rollback as a no-op)")
        return (Directive(name="irreversible", args={"reason": reason, "implied": MISSING_SETTING},
                          file=file, line=int(line) if line.isdigit() else 1),)
    reason = "" if rollback is None else f" ({expected} has no SQL statements)"
    raise InputError(message or f"no rollback for version {version}{reason}", where=where,
                     hint=f"add {expected} {IRREVERSIBLE_HINT}; or set {MISSING_SETTING} = \"irreversible\" "
                          "(or \"allow\") in dualpath.toml to read changes without a way back as their tool does")


def no_way_back(change: Change) -> str | None:
    """Why ``change`` cannot be undone by running SQL, or None when it can (or has nothing to undo)."""
    if change.rollback or not change.forward:
        return None
    implied = change.irreversible
    if implied is not None and implied.args.get("implied") == MISSING_SETTING:
        return "irreversible: " + ("rollback runs nothing" if change.rollback_file else "no rollback")
    if implied is not None:
        return "irreversible: " + implied.args.get("reason", "marked -- dualpath:irreversible")
    return "rollback runs nothing" if change.rollback_file else "no rollback (runs as a no-op)"


def build_change(*, version: str, description: str, forward: Part, rollback: Part | None,
                 file: Path | str, layout: str, line: int = 1, rollback_file: Path | str | None = None,
                 directives: Sequence[Directive] = (), extra: dict[str, Any] | None = None,
                 checksum: str | None = None) -> Change:
    """A Change from split parts; change-level directives are collected from the forward part.
    ``checksum``, when the reader computed it while reading, spares reading big files again."""
    change = Change(
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
    if checksum is not None:
        change.__dict__["checksum"] = checksum  # Change.checksum is a cached_property
    return change


def visible_files(folder: Path) -> list[Path]:
    """Top-level entries, sorted, without hidden files (editor swap files, .DS_Store), each checked:
    links stay inside the folder, FIFOs and devices are refused (see sources/files.py)."""
    return list_folder(folder)


def present(path: Path) -> bool:
    """The file is there (a FIFO or a link is there too: reading it then explains why it is refused)."""
    return path.is_symlink() or path.exists()


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
              directives: Sequence[Directive] = (),
              script: Callable[[Path, str | None, Any], Part] | None = None) -> Change:
    """Read a forward file and its rollback file (layouts with one file per direction); ``script``
    reads one file (default: read_script), for layouts that rewrite it first (Flyway placeholders)."""
    if script is None:
        def script(path: Path, dialect: str | None, checksum: Any) -> Part:
            return read_script(path, dialect, checksum)[0]
    if pair.forward is None:
        assert pair.rollback is not None
        raise_orphan_rollback(pair.version, pair.rollback, expected_forward)
    checksum = hashlib.sha256()
    forward = script(pair.forward, dialect, checksum)
    require_statements(forward, pair.forward)
    checksum.update(ROLLBACK_MARK)
    rollback = None
    if pair.rollback is not None:
        rollback = script(pair.rollback, dialect, checksum)
    where = f"{pair.rollback or pair.forward}:1"
    implied = require_rollback(pair.version, forward, rollback, expected_rollback, where)
    return build_change(version=pair.version, description=description, forward=forward,
                        rollback=rollback, file=pair.forward, layout=layout,
                        rollback_file=pair.rollback, directives=(*directives, *implied),
                        checksum=checksum.hexdigest())
