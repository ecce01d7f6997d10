"""golang-migrate: ``<ver>_<name>.up.sql`` forward, ``<ver>_<name>.down.sql`` rollback."""

from __future__ import annotations

import re
from pathlib import Path

from dualpath.changes import Change
from dualpath.sources.common import Pair, Reader, describe, pair_files, read_pair, visible_files

NAME = "golang-migrate"
_FILE = re.compile(r"^(?P<version>\d+)_(?P<name>.*)\.(?P<direction>up|down)\.sql$")


def find(folder: Path) -> list[Path]:
    found = [p for p in visible_files(folder) if p.is_file() and _FILE.match(p.name)]
    return sorted(found, key=lambda p: p.name.endswith(".down.sql"))  # forward files make better examples


def read(folder: Path, dialect: str | None) -> list[Change]:
    entries = []
    for path in find(folder):
        match = _FILE.match(path.name)
        assert match is not None
        entries.append((match["version"], match["name"], match["direction"] == "up", path))
    return [_read_one(pair, folder, dialect) for pair in pair_files(entries)]


def _read_one(pair: Pair, folder: Path, dialect: str | None) -> Change:
    stem = f"{pair.version}_{pair.name}"
    return read_pair(pair, layout=NAME, dialect=dialect, description=describe(pair.name),
                     expected_forward=f"{pair.version}_<name>.up.sql",
                     expected_rollback=str(folder / f"{stem}.down.sql"))


READER = Reader(name=NAME, example="000001_create_users.up.sql", find=find, read=read)
