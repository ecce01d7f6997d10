"""Flyway: ``V<ver>__<desc>.sql`` forward, ``U<ver>__<desc>.sql`` undo, nested folders allowed."""

from __future__ import annotations

import re
from pathlib import Path

from dualpath.changes import Change, Directive
from dualpath.errors import InputError
from dualpath.sources.common import (
    Pair,
    Reader,
    describe,
    no_transaction_from,
    pair_files,
    present,
    read_pair,
    read_text,
)
from dualpath.sources.files import walk_files

NAME = "flyway"
_VERSIONED = re.compile(r"^(?P<kind>[VU])(?P<version>\d+(?:[._]\d+)*)__(?P<desc>.*)\.sql$")
_REPEATABLE = re.compile(r"^R__.*\.sql$")
_NEAR_MISS = re.compile(r"^[VU]\d[\w.]*\.sql$")  # looks versioned but lacks the double underscore


def find(folder: Path) -> list[Path]:
    found = [p for p in _walk(folder) if _VERSIONED.match(p.name) or _REPEATABLE.match(p.name)]
    return sorted(found, key=lambda p: p.name.startswith("U"))  # forward files make better examples


def _walk(folder: Path) -> list[Path]:
    """Flyway reads subfolders too; hidden folders (.git) are not migrations."""
    return [p for p in walk_files(folder) if p.suffix == ".sql"]


def read(folder: Path, dialect: str | None) -> list[Change]:
    entries = []
    for path in _walk(folder):
        check_name(path)
        match = _VERSIONED.match(path.name)
        if match:
            version = match["version"].replace("_", ".")
            entries.append((version, match["desc"], match["kind"] == "V", path))
    return [_read_one(pair, dialect) for pair in pair_files(entries)]


def check_name(path: Path) -> None:
    """Refuse what Flyway would run but dualpath cannot, rather than skipping it silently."""
    if _REPEATABLE.match(path.name):
        raise InputError(f"repeatable Flyway migrations are not supported yet: {path.name}",
                         where=f"{path}:1",
                         hint="move R__ files out of the migrations folder and run them separately")
    if _NEAR_MISS.match(path.name) and not _VERSIONED.match(path.name):
        raise InputError(f"not a Flyway migration name: {path.name}", where=f"{path}:1",
                         hint="name it V<version>__<description>.sql (two underscores), "
                              "e.g. V2__add_price.sql")


def _read_one(pair: Pair, dialect: str | None) -> Change:
    undo = pair.forward.with_name("U" + pair.forward.name[1:]) if pair.forward else None
    spelled = pair.rollback.name[1:].partition("__")[0] if pair.rollback else pair.version
    return read_pair(pair, layout=NAME, dialect=dialect, description=describe(pair.name),
                     expected_forward=f"V{spelled}__<description>.sql",
                     expected_rollback=str(undo),
                     directives=_script_config(pair.forward))


def _script_config(forward: Path | None) -> tuple[Directive, ...]:
    """Flyway's per-script ``V1__x.sql.conf`` may say ``executeInTransaction=false``."""
    if forward is None:
        return ()
    conf = forward.with_name(forward.name + ".conf")
    if not present(conf):
        return ()
    for number, line in enumerate(read_text(conf).split("\n"), start=1):
        key, _, value = line.partition("=")
        if key.strip() == "executeInTransaction" and value.strip().lower() == "false":
            return (no_transaction_from(conf, number),)
    return ()


READER = Reader(name=NAME, example="V1__create_users.sql", find=find, read=read)
