"""dbmate: one file ``<ver>_<name>.sql`` holding ``-- migrate:up`` and ``-- migrate:down`` sections."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from dualpath.changes import Change, Directive
from dualpath.errors import InputError
from dualpath.sources.common import (
    Part,
    Reader,
    build_change,
    change_directives,
    describe,
    no_transaction_from,
    raise_duplicate,
    read_text,
    require_rollback,
    require_statements,
    same_version_key,
    split_part,
    visible_files,
)
from dualpath.sources.liquibase import is_liquibase

NAME = "dbmate"
_FILE = re.compile(r"^(?P<version>\d+)_(?P<name>.+)\.sql$")
_MARKER = re.compile(r"^--\s*migrate:(?P<direction>up|down)\b(?P<options>.*)$")
_TX_OFF = re.compile(r"\btransaction:false\b", re.IGNORECASE)


@dataclass
class Section:
    """One ``-- migrate:<direction>`` block: the marker's line and the lines below it."""

    marker_line: int
    no_transaction: bool
    lines: list[str]


def find(folder: Path) -> list[Path]:
    return [p for p in visible_files(folder) if p.is_file() and _is_dbmate_name(p) and not is_liquibase(p)]


def _is_dbmate_name(path: Path) -> bool:
    return bool(_FILE.match(path.name)) and not path.name.endswith((".up.sql", ".down.sql"))


def read(folder: Path, dialect: str | None) -> list[Change]:
    seen: dict[tuple[int, ...], Path] = {}
    changes = []
    for path in find(folder):
        match = _FILE.match(path.name)
        assert match is not None
        key = same_version_key(match["version"])
        if key in seen:
            raise_duplicate(match["version"], seen[key], path)
        seen[key] = path
        changes.append(_read_one(path, match["version"], match["name"], dialect))
    return changes


def _read_one(path: Path, version: str, name: str, dialect: str | None) -> Change:
    preamble, sections = _sections(read_text(path).split("\n"), path)
    up, down = sections.get("up"), sections.get("down")
    if up is None:
        where = f"{path}:{down.marker_line}" if down else f"{path}:1"
        raise InputError(f"no '-- migrate:up' section in {path.name}", where=where,
                         hint="start the forward SQL with a line '-- migrate:up' "
                              "and the rollback with '-- migrate:down'")
    forward = _split_section(up, path, dialect)
    require_statements(forward, path, up.marker_line, what=f"the '-- migrate:up' section of {path.name}")
    rollback = _split_section(down, path, dialect) if down else None
    where = f"{path}:{down.marker_line if down else up.marker_line}"
    implied = require_rollback(version, Part(forward.statements, forward.directives + preamble), rollback,
                               f"a '-- migrate:down' section to {path.name}", where)
    directives = [*change_directives(preamble), *implied]
    if up.no_transaction:
        directives.append(no_transaction_from(path, up.marker_line))
    return build_change(version=version, description=describe(name), forward=forward, rollback=rollback,
                        file=path, layout=NAME, line=up.marker_line,
                        rollback_file=path if down else None, directives=directives,
                        extra={"down_no_transaction": bool(down and down.no_transaction)})


def _sections(lines: list[str], path: Path) -> tuple[tuple[Directive, ...], dict[str, Section]]:
    """Cut the file at its markers; what stands before the first marker may only be comments."""
    sections: dict[str, Section] = {}
    current: Section | None = None
    preamble: list[str] = []
    for number, line in enumerate(lines, start=1):
        marker = _MARKER.match(line.strip())
        if marker:
            direction = marker["direction"]
            if direction in sections:
                raise InputError(f"second '-- migrate:{direction}' section in {path.name}",
                                 where=f"{path}:{number}",
                                 hint=f"keep one '-- migrate:{direction}' section per file")
            current = Section(number, bool(_TX_OFF.search(marker["options"])), [])
            sections[direction] = current
        elif current is not None:
            current.lines.append(line)
        else:
            preamble.append(line)
    return _preamble_directives(preamble, path), sections


def _preamble_directives(lines: list[str], path: Path) -> tuple[Directive, ...]:
    """Directives above ``-- migrate:up`` describe the change; SQL there would never run."""
    part = split_part("\n".join(lines), path, None)
    if part.statements:
        first = part.statements[0]
        raise InputError(f"SQL before the '-- migrate:up' line in {path.name} would never run",
                         where=first.where, hint="move it below '-- migrate:up'")
    return part.directives


def _split_section(section: Section, path: Path, dialect: str | None) -> Part:
    # start_line keeps statement line numbers equal to their real lines in the file
    return split_part("\n".join(section.lines), path, dialect, start_line=section.marker_line + 1)


READER = Reader(name=NAME, example="20240101120000_create_users.sql", find=find, read=read)
