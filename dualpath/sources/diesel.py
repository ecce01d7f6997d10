"""diesel: one folder per change, ``<ver>_<name>/up.sql`` and ``down.sql``, optional metadata.toml."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from dualpath.changes import Change, Directive
from dualpath.errors import InputError
from dualpath.sources.common import (
    Pair,
    Reader,
    describe,
    no_transaction_from,
    present,
    raise_duplicate,
    read_pair,
    read_text,
    same_version_key,
    visible_files,
)

NAME = "diesel"
# diesel writes 20170309122510_x today and wrote 2017-09-23-182408_x before; folders mix both
_FOLDER = re.compile(r"^(?P<version>\d[\d-]*)_(?P<name>.+)$")


def find(folder: Path) -> list[Path]:
    return [p for p in _change_folders(folder) if present(p / "up.sql") or present(p / "down.sql")]


def _change_folders(folder: Path) -> list[Path]:
    return [p for p in visible_files(folder) if p.is_dir() and _FOLDER.match(p.name)]


def read(folder: Path, dialect: str | None) -> list[Change]:
    seen: dict[tuple[int, ...], Path] = {}
    changes = []
    for path in find(folder):
        match = _FOLDER.match(path.name)
        assert match is not None
        version = match["version"].replace("-", "")  # what diesel itself records
        key = same_version_key(version)
        if key in seen:
            raise_duplicate(version, seen[key], path)
        seen[key] = path
        changes.append(_read_one(path, version, match["name"], dialect))
    return changes


def _read_one(path: Path, version: str, name: str, dialect: str | None) -> Change:
    up, down = path / "up.sql", path / "down.sql"
    pair = Pair(version, name, up if present(up) else None, down if present(down) else None)
    return read_pair(pair, layout=NAME, dialect=dialect, description=describe(name),
                     expected_forward=str(up), expected_rollback=str(down),
                     directives=_metadata(path / "metadata.toml"))


def _metadata(path: Path) -> tuple[Directive, ...]:
    """``run_in_transaction = false`` in metadata.toml means the change runs outside a transaction."""
    if not present(path):
        return ()
    text = read_text(path)
    try:
        settings = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = getattr(exc, "lineno", None) or _line_of(str(exc))
        raise InputError(f"metadata.toml is not valid TOML: {exc}", where=f"{path}:{line}",
                         hint="fix the file, e.g. run_in_transaction = false") from None
    if settings.get("run_in_transaction", True) is False:
        line = next((n for n, ln in enumerate(text.split("\n"), start=1)
                     if ln.strip().startswith("run_in_transaction")), 1)
        return (no_transaction_from(path, line),)
    return ()


def _line_of(message: str) -> int:
    found = re.search(r"line (\d+)", message)
    return int(found.group(1)) if found else 1


READER = Reader(name=NAME, example="2017-09-23-182408_create_users/up.sql", find=find, read=read)
