"""Flyway: ``V<ver>__<desc>.sql`` forward, ``U<ver>__<desc>.sql`` undo, ``R__<desc>.sql``
repeatable, nested folders allowed, ``${placeholders}`` replaced."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from dualpath.changes import REPEATABLE, ROLLBACK_MARK, Change, Directive, feed_checksum
from dualpath.errors import InputError
from dualpath.sources.common import (
    MISSING_SETTING,
    Pair,
    Part,
    Reader,
    build_change,
    describe,
    missing_policy,
    missing_rollbacks,
    no_transaction_from,
    note,
    pair_files,
    present,
    read_pair,
    read_script,
    read_text,
    require_rollback,
    require_statements,
    split_part,
)
from dualpath.sources.files import walk_files

NAME = "flyway"
_VERSIONED = re.compile(r"^(?P<kind>[VU])(?P<version>\d+(?:[._]\d+)*)__(?P<desc>.*)\.sql$")
_REPEATABLE = re.compile(r"^R__(?P<desc>.*)\.sql$")
_PLACEHOLDER = re.compile(r"\$\{(?P<name>[^{}\s]+)\}")
PLACEHOLDER_SETTING = "[flyway] placeholders"
# the values of ${name} for this read: None = not replaced (no target known, e.g. `dualpath detect`)
_PLACEHOLDERS: ContextVar[dict[str, str] | None] = ContextVar("flyway_placeholders", default=None)


@contextmanager
def placeholders(values: dict[str, str] | None) -> Iterator[None]:
    token = _PLACEHOLDERS.set(values)
    try:
        yield
    finally:
        _PLACEHOLDERS.reset(token)
_NEAR_MISS = re.compile(r"^[VU]\d[\w.]*\.sql$")  # looks versioned but lacks the double underscore


def find(folder: Path) -> list[Path]:
    """Flyway reads subfolders too; hidden folders (.git) are not migrations."""
    found = [p for p in walk_files(folder)
             if p.suffix == ".sql" and (_VERSIONED.match(p.name) or _REPEATABLE.match(p.name))]
    return sorted(found, key=lambda p: p.name.startswith("U"))  # forward files make better examples


def read(folder: Path, dialect: str | None) -> list[Change]:
    entries, repeatables = [], []
    for path in walk_files(folder):
        if not _is_migration(path):
            continue
        match = _VERSIONED.match(path.name)
        if match:
            version = match["version"].replace("_", ".")
            entries.append((version, match["desc"], match["kind"] == "V", path))
        elif (repeat := _REPEATABLE.match(path.name)):
            repeatables.append((repeat["desc"], path))
    changes = [_read_one(pair, dialect) for pair in pair_files(entries)]
    return changes + [_read_repeatable(desc, path, dialect) for desc, path in repeatables]


def _is_migration(path: Path) -> bool:
    """What Flyway reads; the rest (README.md, .keep, a misnamed .sql) it skips, and so do we, with a note."""
    if path.suffix == ".conf" and present(path.with_suffix("")):
        return False  # V1__x.sql.conf: the script's own settings (_script_config)
    if path.suffix == ".sql" and (_VERSIONED.match(path.name) or _REPEATABLE.match(path.name)):
        return True
    if path.suffix == ".sql" and path.name[:1] in "vur" and _is_migration_name(path.name[:1].upper() + path.name[1:]):
        note(f"{path}: ignored, as Flyway ignores it: its prefixes are case-sensitive (V, U, R)")
    elif _NEAR_MISS.match(path.name):
        note(f"{path}: ignored, as Flyway ignores it: not a migration name (V<version>__<description>.sql, "
             "two underscores)")
    else:
        note(f"{path}: ignored, as Flyway ignores it: not a V__, U__ or R__ .sql file")
    return False


def _is_migration_name(name: str) -> bool:
    return bool(_VERSIONED.match(name) or _REPEATABLE.match(name))


def _read_repeatable(desc: str, path: Path, dialect: str | None) -> Change:
    """``R__x.sql``: identity is its description, it runs after every versioned change and again
    whenever its checksum changes; it has no rollback by nature, so ``[rollback] missing`` never
    refuses it ("refuse" reads it as irreversible), and a rollback passes it by."""
    version = REPEATABLE + desc
    if len(version) > 64:  # the history's version column
        version = version[:55] + "~" + hashlib.sha256(desc.encode()).hexdigest()[:8]
    checksum = hashlib.sha256()
    forward = _script(path, dialect, checksum)
    require_statements(forward, path)
    checksum.update(ROLLBACK_MARK)
    policy = "irreversible" if missing_policy() == "refuse" else missing_policy()
    with missing_rollbacks(policy):
        implied = require_rollback(version, forward, None, f"an undo for {path.name} (repeatables have none)",
                                   f"{path}:1")
    return build_change(version=version, description=describe(desc), forward=forward, rollback=None, file=path,
                        layout=NAME, directives=(*_script_config(path), *implied),
                        extra={"repeatable": True, "rollback_setting": MISSING_SETTING},
                        checksum=checksum.hexdigest())


def _script(path: Path, dialect: str | None, checksum: Any) -> Part:
    """A script with its ``${placeholders}`` replaced (when a target gives their values)."""
    values = _PLACEHOLDERS.get()
    if values is None:
        return read_script(path, dialect, checksum)[0]
    text = read_text(path)
    if "${" not in text:
        return read_script(path, dialect, checksum)[0]
    part = split_part(replace_placeholders(text, values, path), path, dialect)
    feed_checksum(checksum, part.statements)
    return part


def replace_placeholders(text: str, values: dict[str, str], path: Path | str) -> str:
    """Flyway's ``${name}`` replacement; a name without a value is an error, as in Flyway
    ("No value provided for placeholder")."""
    def value(found: re.Match[str]) -> str:
        name = found["name"]
        if name in values:
            return values[name]
        line = text.count("\n", 0, found.start()) + 1
        raise InputError(f"no value provided for Flyway placeholder ${{{name}}}", where=f"{path}:{line}",
                         hint=f'set it in dualpath.toml: {PLACEHOLDER_SETTING} = {{ {name.split(":")[-1]} = "..." }}, '
                              "or turn replacement off with [flyway] placeholder_replacement = false")
    return _PLACEHOLDER.sub(value, text)


def _read_one(pair: Pair, dialect: str | None) -> Change:
    undo = pair.forward.with_name("U" + pair.forward.name[1:]) if pair.forward else None
    spelled = pair.rollback.name[1:].partition("__")[0] if pair.rollback else pair.version
    return read_pair(pair, layout=NAME, dialect=dialect, description=describe(pair.name),
                     expected_forward=f"V{spelled}__<description>.sql",
                     expected_rollback=str(undo),
                     directives=_script_config(pair.forward), script=_script)


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
