"""Where each layout keeps a change's rollback, and writing a draft there in the layout's own form.

Flyway ``U<ver>__<desc>.sql``; diesel ``down.sql``; golang-migrate ``<ver>_<name>.down.sql``;
sqitch ``revert/<name>.sql``; dbmate the ``-- migrate:down`` section of the same file; Liquibase
``--rollback`` lines under the changeset. A rollback with SQL in it is never touched; an empty or
comment-only one is replaced, and the result says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from dualpath.changes import Change
from dualpath.errors import InputError

_DBMATE_MARKER = re.compile(r"^\s*--\s*migrate:(?P<direction>up|down)\b")
_CHANGESET = re.compile(r"^\s*--\s*changeset\b", re.IGNORECASE)
_ROLLBACK = re.compile(r"^\s*--\s*rollback\b", re.IGNORECASE)


@dataclass(frozen=True)
class Written:
    path: Path
    how: str  # "new file", "replaced an empty rollback", "filled the -- migrate:down section", ...


def rollback_place(change: Change, folder: Path) -> Path:
    """The file a rollback of ``change`` belongs in."""
    forward = Path(change.file)
    if change.layout == "flyway":
        return forward.with_name("U" + forward.name[1:])
    if change.layout == "diesel":
        return forward.parent / "down.sql"
    if change.layout == "golang-migrate":
        return forward.with_name(forward.name[: -len(".up.sql")] + ".down.sql")
    if change.layout == "sqitch":
        return folder / "revert" / forward.relative_to(folder / "deploy")
    if change.layout in ("dbmate", "liquibase"):
        return forward
    raise InputError(f"drafting rollbacks is not supported for layout {change.layout!r}", where=change.where,
                     hint="write the rollback by hand")


def write_rollback(change: Change, folder: Path, lines: list[str]) -> Written:
    """Put the drafted ``lines`` where the layout expects the rollback of ``change``."""
    if change.rollback:
        raise InputError(f"version {change.version} already has a rollback; it is not overwritten",
                         where=f"{change.rollback_file or change.file}:1", hint="delete it first to draft a new one")
    path = rollback_place(change, folder)
    if change.layout == "dbmate":
        return _fill_dbmate(path, lines)
    if change.layout == "liquibase":
        return _fill_liquibase(path, str(change.extra.get("changeset_id", "")), lines)
    how = "replaced an empty rollback file" if path.exists() else "new file"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Written(path, how)


def _fill_dbmate(path: Path, lines: list[str]) -> Written:
    text = path.read_text(encoding="utf-8")
    old = text.split("\n")
    if old and old[-1] == "":
        old.pop()
    markers = [(n, m["direction"]) for n, line in enumerate(old) if (m := _DBMATE_MARKER.match(line))]
    down = next((n for n, d in markers if d == "down"), None)
    if down is None:
        new = old + ["", "-- migrate:down"] + lines
        return _write(path, new, "added a -- migrate:down section")
    end = next((n for n, _ in markers if n > down), len(old))
    new = old[: down + 1] + lines + ([""] if end < len(old) else []) + old[end:]
    return _write(path, new, "filled the empty -- migrate:down section")


def _fill_liquibase(path: Path, changeset_id: str, lines: list[str]) -> Written:
    """``--rollback`` lines after the changeset's last line of SQL; empty ``--rollback`` lines go.

    The changeset is found by its author:id (an earlier draft in the same file moved the lines).
    """
    old = path.read_text(encoding="utf-8").split("\n")
    if old and old[-1] == "":
        old.pop()
    author, _, ident = changeset_id.partition(":")
    header = re.compile(rf'^\s*--\s*changeset\s+"?{re.escape(author)}"?:"?{re.escape(ident)}"?(\s|$)', re.IGNORECASE)
    found = next((n for n, line in enumerate(old) if header.match(line)), None)
    if found is None:
        raise InputError(f"changeset {changeset_id} not found in {path.name} any more", where=f"{path}:1",
                         hint="read the folder again and draft once more")
    start = found + 1  # the line after the header
    end = next((n for n in range(start, len(old)) if _CHANGESET.match(old[n])), len(old))
    body = [line for line in old[start:end] if not _ROLLBACK.match(line)]
    had_empty = len(body) != end - start
    while body and not body[-1].strip():
        body.pop()
    tail = [""] if end < len(old) else []
    new = old[:start] + body + [f"--rollback {line}" for line in lines] + tail + old[end:]
    how = "replaced empty --rollback lines" if had_empty else "added --rollback lines"
    return _write(path, new, how)


def _write(path: Path, lines: list[str], how: str) -> Written:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Written(path, how)
