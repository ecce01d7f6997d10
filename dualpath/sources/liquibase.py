"""Liquibase formatted SQL: ``--changeset author:id`` blocks with ``--rollback`` lines."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dualpath.changes import Change
from dualpath.errors import InputError
from dualpath.sources.common import (
    Part,
    Reader,
    build_change,
    no_transaction_from,
    note,
    read_text,
    require_rollback,
    require_statements,
    single_statement,
    split_part,
    visible_files,
)
from dualpath.sources.files import peek_line

NAME = "liquibase"
_HEADER = re.compile(r"^\s*--\s*liquibase\s+formatted\s+sql\b", re.IGNORECASE)
_CHANGESET = re.compile(r"^\s*--\s*changeset\b\s*(?P<rest>.*)$", re.IGNORECASE)
_AUTHOR_ID = re.compile(r'^(?P<author>"[^"]+"|[^:\s]+)(?::(?P<id>"[^"]*"|\S*))?(?P<attrs>.*)$')
_ATTR = re.compile(r'(?P<key>\w+):(?P<value>"[^"]*"|\S+)')
_ROLLBACK = re.compile(r"^\s*--\s*rollback\b ?(?P<sql>.*)$", re.IGNORECASE)
_COMMENT = re.compile(r"^\s*--\s*comment:?\s*(?P<text>.*)$", re.IGNORECASE)
# Liquibase 4.28's FormattedSqlChangeLogParser: '--preconditions onFail:X onError:Y' and one
# '--precondition-<type> ...' line per check (sql-check, table-exists, view-exists), all of which must hold
_PRECONDITIONS = re.compile(r"^\s*--[\s]*preconditions(?P<rest>\s.*|)$")
_PRECONDITION = re.compile(r"^\s*--[\s]*precondition-(?P<type>[a-zA-Z0-9-]+)(?: (?P<rest>.*))?$")
_SQL_CHECK = (re.compile(r'^(?:expectedResult:)?"([^"]+)" (.*)'), re.compile(r"^(?:expectedResult:)?'([^']+)' (.*)"),
              re.compile(r"^(?:expectedResult:)?(\w+) (.*)"))
ON_FAILURE = ("HALT", "CONTINUE", "MARK_RAN", "WARN")
_EMPTY_ROLLBACK = {"not required", "empty"}


@dataclass
class Changeset:
    """One ``--changeset`` block; body and rollback keep one entry per file line."""

    line: int
    author: str
    id: str
    attrs: dict[str, str]
    body: list[str] = field(default_factory=list)
    rollback: list[str] = field(default_factory=list)
    comment: str = ""
    rollback_declared_empty: bool = False
    # {"on_fail", "on_error", "checks": [{"type", "line", ...}]} (dualpath/preconditions.py runs them)
    preconditions: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.author}:{self.id}"


def is_liquibase(path: Path) -> bool:
    """Liquibase only treats a file as formatted SQL when its first line says so."""
    return bool(_HEADER.match(peek_line(path)))


def find(folder: Path) -> list[Path]:
    return [p for p in visible_files(folder) if p.is_file() and p.suffix == ".sql" and is_liquibase(p)]


def read(folder: Path, dialect: str | None) -> list[Change]:
    changes: list[Change] = []
    seen: dict[str, str] = {}
    for file_index, path in enumerate(find(folder), start=1):
        for cs_index, changeset in enumerate(parse_file(path), start=1):
            where = f"{path}:{changeset.line}"
            if changeset.key in seen:
                raise InputError(f"duplicate changeset {changeset.key}: {seen[changeset.key]} and {where}",
                                 where=where, hint="give each changeset its own id")
            seen[changeset.key] = where
            changes.append(_build(changeset, path, f"{file_index}.{cs_index}", dialect))
    return changes


def parse_file(path: Path) -> list[Changeset]:
    changesets: list[Changeset] = []
    preamble: list[str] = []
    noted = False
    for number, line in enumerate(read_text(path).split("\n"), start=1):
        header = _CHANGESET.match(line)
        if header:
            changesets.append(_parse_header(header["rest"], path, number))
        elif changesets and _read_precondition(changesets[-1], line, f"{path}:{number}"):
            _add_line(changesets[-1], "")
        elif changesets:
            _add_line(changesets[-1], line)
        elif _ROLLBACK.match(line):
            raise InputError("--rollback before the first --changeset belongs to no changeset",
                             where=f"{path}:{number}", hint="move it below the changeset it undoes")
        elif _PRECONDITIONS.match(line) or _PRECONDITION.match(line):
            # Liquibase's formatted SQL parser reads preconditions only under a changeset; above the first
            # one it skips them, so a check meant for the whole file guards nothing: said (once), not kept
            if not noted:
                noted = True
                note(f"{path}:{number}: preconditions above the first --changeset, where Liquibase ignores them "
                     "(formatted SQL has no changelog-level preconditions); dualpath ignores them too: move them "
                     "under the changeset they should guard")
            preamble.append("")
        else:
            preamble.append("" if number == 1 else line)  # line 1 is the header
    _check_preamble(preamble, path)
    return changesets


def _parse_header(rest: str, path: Path, number: int) -> Changeset:
    match = _AUTHOR_ID.match(rest.strip())
    if not match or not match["id"] or not match["id"].strip('"'):
        raise InputError("changeset without an id", where=f"{path}:{number}",
                         hint="write it as --changeset author:id, e.g. --changeset alice:add-users")
    attrs = {m["key"]: m["value"].strip('"') for m in _ATTR.finditer(match["attrs"])}
    return Changeset(number, match["author"].strip('"'), match["id"].strip('"'), attrs)


def _read_precondition(changeset: Changeset, line: str, where: str) -> bool:
    """A ``--preconditions`` or ``--precondition-<type>`` line, read into the changeset as Liquibase reads it."""
    found = _PRECONDITIONS.match(line)
    if found:
        rest = found["rest"]
        for key, name in (("on_fail", "onFail"), ("on_error", "onError")):
            value = re.search(rf"{name}:(\w+)", rest)
            if value and value.group(1).upper() not in ON_FAILURE:
                raise InputError(f"--preconditions {name}:{value.group(1)} is not one Liquibase knows", where=where,
                                 hint=f"write {name}: followed by one of {', '.join(ON_FAILURE)}")
            if value:
                changeset.preconditions[key] = value.group(1).upper()
        return True
    found = _PRECONDITION.match(line)
    if not found:
        return False
    kind, rest = found["type"], (found["rest"] or "").strip()
    check: dict[str, Any] = {"type": kind, "line": int(where.rsplit(":", 1)[1])}
    if kind == "sql-check":
        match = next((m for pattern in _SQL_CHECK if (m := pattern.match(rest))), None)
        if not match or not match.group(2).strip():
            raise InputError(f"could not read the sql-check precondition {rest!r}", where=where,
                             hint="write --precondition-sql-check expectedResult:0 SELECT COUNT(*) FROM t")
        check.update(expected=match.group(1), sql=match.group(2).strip())
    elif kind in ("table-exists", "view-exists"):
        what = "table" if kind == "table-exists" else "view"
        named, schema = re.search(rf"{what}:(\w+)", rest), re.search(r"schema:(\w+)", rest)
        if not named:
            raise InputError(f"the {kind} precondition names no {what}", where=where,
                             hint=f"write --precondition-{kind} {what}:name [schema:name]")
        check.update(name=named.group(1), schema=schema.group(1) if schema else None)
    else:
        raise InputError(f"'{kind}' precondition type is not supported in formatted SQL (Liquibase refuses it too)",
                         where=where, hint="use sql-check, table-exists or view-exists")
    changeset.preconditions.setdefault("checks", []).append(check)
    return True


def _add_line(changeset: Changeset, line: str) -> None:
    """Sort a line into body or rollback, keeping a blank in the other so line numbers stay real."""
    rollback = _ROLLBACK.match(line)
    comment = _COMMENT.match(line)
    if rollback:
        sql = rollback["sql"]
        if sql.strip().rstrip(";").lower() in _EMPTY_ROLLBACK:
            changeset.rollback_declared_empty = True
            sql = ""
        changeset.body.append("")
        changeset.rollback.append(sql)
        return
    if comment and not changeset.comment:
        changeset.comment = comment["text"].strip()
        line = ""
    changeset.body.append(line)
    changeset.rollback.append("")


def _check_preamble(lines: list[str], path: Path) -> None:
    """SQL or directives above the first changeset belong to nothing; Liquibase would not run them."""
    part = split_part("\n".join(lines), path, None)
    found = [s.where for s in part.statements] + [d.where for d in part.directives]
    if found:
        raise InputError("SQL or directives before the first --changeset belong to no changeset",
                         where=found[0], hint="move them below a --changeset author:id line")


def _build(changeset: Changeset, path: Path, version: str, dialect: str | None) -> Change:
    start = changeset.line + 1
    forward = _split(changeset.body, changeset, path, dialect, start)
    require_statements(forward, path, changeset.line, what=f"changeset {changeset.key}")
    written = any(line.strip() for line in changeset.rollback)
    rollback = _split(changeset.rollback, changeset, path, dialect, start) if written else None
    implied = () if changeset.rollback_declared_empty else require_rollback(
        version, forward, rollback, f"--rollback lines under the changeset {changeset.key}", f"{path}:{changeset.line}")
    directives = [*implied]
    if changeset.attrs.get("runInTransaction", "").lower() == "false":
        directives.append(no_transaction_from(path, changeset.line))
    return build_change(
        version=version, description=changeset.comment or changeset.id, forward=forward,
        rollback=rollback, file=path, line=changeset.line, layout=NAME,
        rollback_file=path if rollback else None, directives=directives,
        extra={"changeset_id": changeset.key, "liquibase": dict(changeset.attrs),
               "rollback_declared_empty": changeset.rollback_declared_empty,
               **({"preconditions": {"file": str(path), **changeset.preconditions}}
                  if changeset.preconditions.get("checks") else {})},
    )


def _split(lines: list[str], changeset: Changeset, path: Path, dialect: str | None, start: int) -> Part:
    text = "\n".join(lines)
    if changeset.attrs.get("splitStatements", "").lower() == "false":
        return single_statement(text, path, start)
    delimiter = changeset.attrs.get("endDelimiter")
    if delimiter and delimiter != ";":
        return _split_on_delimiter(lines, delimiter, path, start)
    return split_part(text, path, dialect, start_line=start)


def _split_on_delimiter(lines: list[str], delimiter: str, path: Path, start: int) -> Part:
    """``endDelimiter:X``: a statement ends on a line ending in X; semicolons inside are kept."""
    parts: list[Part] = []
    chunk: list[str] = []
    chunk_start = start
    for offset, line in enumerate(lines):
        stripped = line.rstrip()
        if stripped.endswith(delimiter):
            chunk.append(stripped[: -len(delimiter)])
            parts.append(single_statement("\n".join(chunk), path, chunk_start))
            chunk, chunk_start = [], start + offset + 1
        else:
            chunk.append(line)
    parts.append(single_statement("\n".join(chunk), path, chunk_start))
    return Part(tuple(s for p in parts for s in p.statements), tuple(d for p in parts for d in p.directives))


READER = Reader(name=NAME, example="changelog.sql (first line: --liquibase formatted sql)",
                find=find, read=read)
