"""The migrations folder as last read, kept between runs: reading 500 files (detecting the layout,
splitting and checking every statement) was most of what `dualpath status` and an apply with nothing
to do cost, and the files rarely change between two runs.

The cache is one JSON file per folder and dialect under the project's ``.dualpath/cache/``. Its key
is every file in the folder (path and SHA-256 of its content; size, modification time and inode for
a file too big to keep in memory, whose statements sources/lazy.py re-checks when they run), the
settings reading depends on, and the dualpath code that reads. Any difference, and the folder is read
as before and the cache rewritten; a folder with anything unusual in it (a link, a FIFO, an
unreadable file) is never cached, so reading refuses it as before, and neither is one whose files use
Flyway placeholders (the replaced text may hold a secret); a cache that cannot be read or written is
ignored. What is stored is exactly what reading returned: it is checked to decode to equal
changes before it is written. Only this module's imports are paid on a hit: no lexer, no parser.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dualpath import __version__
from dualpath.changes import Change, Directive, Statement

if TYPE_CHECKING:
    from dualpath.config import Settings

CACHE_DIR = Path(".dualpath") / "cache"
FORMAT = 3  # 2: a big file's statements know whether they change the session; 3: psql's \gexec
BIG = 1 << 20  # sources/lazy.py LAZY_BYTES: such files are stamped, not hashed (their statements re-check)
_CODE = ("sources", "sql", "changes.py", "directives.py")  # what decides how files read
Reader = Callable[[], tuple[str, list[Change]]]


class _Uncacheable(Exception):
    """The folder or what was read holds something this cache does not keep: read it every time."""


_once: dict[str, tuple[str, list[Change]]] | None = None  # within ``reading_once``: what was read


@contextlib.contextmanager
def reading_once() -> Iterator[None]:
    """Within the block a folder read (from the cache or not) with the same settings is not read again:
    one command that asks twice (the quick check of an apply with nothing to do, then the run) reads
    and hashes its files once."""
    global _once
    outer, _once = _once, {} if _once is None else _once
    try:
        yield
    finally:
        _once = outer


def cached_read(folder: Path, cache_dir: Path, settings: dict[str, Any], placeholders: dict[str, str] | None,
                read: Reader) -> tuple[str, list[Change]]:
    """(layout, changes) of ``folder``: from the cache when nothing it depends on changed, else ``read()``
    (which detects and reads as usual; its errors pass through and nothing is cached). ``settings``: what
    else reading depends on (dialect, rollback policy, ...); ``placeholders``: Flyway's ``${name}`` values,
    None when they are not replaced."""
    once = _once
    if once is None:
        return _cached_read(folder, cache_dir, settings, placeholders, read)
    asked = json.dumps([os.path.realpath(folder), str(cache_dir), settings, placeholders], sort_keys=True,
                       default=str)
    if asked not in once:
        once[asked] = _cached_read(folder, cache_dir, settings, placeholders, read)
    return once[asked]


def _cached_read(folder: Path, cache_dir: Path, settings: dict[str, Any], placeholders: dict[str, str] | None,
                 read: Reader) -> tuple[str, list[Change]]:
    try:
        key = folder_key(folder, settings, placeholders)
    except (_Uncacheable, OSError):
        return read()
    name = hashlib.sha256(f"{os.path.realpath(folder)}|{settings.get('dialect')}".encode()).hexdigest()[:16]
    path = cache_dir / f"changes-{name}.json"
    found = _load(path, key)
    if found is not None:
        return found
    layout, changes = read()
    _store(path, key, layout, changes)
    return layout, changes


def reading_settings(settings: Settings, dialect: str, placeholders: bool) -> dict[str, Any]:
    """What else reading a folder depends on, for the key: every caller of ``cached_read`` on a target
    (a session, the quick status) must name it the same way to share the cache."""
    return reading_key(dialect, settings.sources.follow_links_outside, settings.rollback.missing, placeholders)


def reading_key(dialect: str, links_outside: bool, missing_rollbacks: str, placeholders: bool) -> dict[str, Any]:
    """``reading_settings`` from its values (the quick commands read them without pydantic: defaults.py)."""
    return {"dialect": dialect, "links": links_outside, "missing": missing_rollbacks, "placeholders": placeholders}


def folder_key(folder: Path, settings: dict[str, Any], placeholders: dict[str, str] | None) -> str:
    """A digest of what reading ``folder`` depends on (see the module docstring)."""
    digest = hashlib.sha256(json.dumps({"format": FORMAT, "version": __version__, "code": _code_stamp(),
                                        "folder": str(folder), "settings": settings}, sort_keys=True).encode())
    for relative, path, info in _walk(Path(folder)):
        if info.st_size > BIG:
            digest.update(f"{relative}\0big {info.st_size} {info.st_mtime_ns} {info.st_ino}\n".encode())
            continue
        data = _read(path, info.st_size)
        if placeholders is not None and b"${" in data:
            # replaced text may carry a placeholder's secret value: it is not written to disk
            raise _Uncacheable(f"{path} uses Flyway placeholders")
        digest.update(f"{relative}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def _read(path: str, size: int) -> bytes:
    """The whole file, in as few system calls as Python allows (a thousand files per run)."""
    handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        chunks = [os.read(handle, size + 1)]
        while chunks[-1]:  # grew since it was listed
            chunks.append(os.read(handle, 1 << 16))
        return b"".join(chunks)
    finally:
        os.close(handle)


def _walk(folder: Path) -> list[tuple[str, str, os.stat_result]]:
    """Every visible regular file below ``folder`` as (relative path, path, stat), as readers see them
    (hidden entries skipped); a link or anything but files and folders makes the folder uncacheable
    (reading checks those itself)."""
    found: list[tuple[str, str, os.stat_result]] = []
    root = os.fspath(folder)
    pending = [root]
    while pending:
        current = pending.pop()
        with os.scandir(current) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                if entry.is_symlink():
                    raise _Uncacheable(entry.path)
                info = entry.stat(follow_symlinks=False)
                if stat.S_ISDIR(info.st_mode):
                    pending.append(entry.path)
                elif stat.S_ISREG(info.st_mode):
                    found.append((entry.path[len(root):], entry.path, info))
                else:
                    raise _Uncacheable(entry.path)
    return sorted(found, key=lambda item: item[0])


def _code_stamp() -> list[Any]:
    """Size and modification time of the code that reads, and where pglast (the PostgreSQL splitter) is."""
    here = Path(__file__).parent
    stamp: list[Any] = []
    for name in _CODE:
        for path in sorted((here / name).rglob("*.py")) if (here / name).is_dir() else [here / name]:
            info = path.stat()
            stamp.append([str(path.relative_to(here)), info.st_size, info.st_mtime_ns])
    spec = importlib.util.find_spec("pglast")
    if spec is not None and spec.origin:
        stamp.append(["pglast", os.stat(spec.origin).st_mtime_ns])
    return stamp


def _load(path: Path, key: str) -> tuple[str, list[Change]] | None:
    try:
        stored = json.loads(path.read_text())
        if stored.get("key") != key:
            return None
        return str(stored["layout"]), [_decode_change(c) for c in stored["changes"]]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # absent, from another format, or damaged: read the folder


def _store(path: Path, key: str, layout: str, changes: list[Change]) -> None:
    try:
        text = json.dumps({"key": key, "layout": layout, "changes": [_encode_change(c) for c in changes]})
        again = [_decode_change(c) for c in json.loads(text)["changes"]]
    except (_Uncacheable, TypeError, ValueError):
        return
    same = again == changes and all(a.extra == c.extra and a.checksum == c.checksum
                                    for a, c in zip(again, changes, strict=True))
    if not same:
        return  # something would not come back as it was read: never serve it
    with contextlib.suppress(OSError):  # a read-only project: no cache, same results
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        partial.write_text(text)
        os.replace(partial, path)  # a concurrent run reads the old file or the new, never half of one


def _encode_change(change: Change) -> list[Any]:
    """Positional, the way it is decoded: a folder of 500 changes loads in a few milliseconds."""
    return [change.version, change.description, _encode_statements(change.forward),
            _encode_statements(change.rollback), change.file, change.line, change.rollback_file,
            [_encode_directive(d) for d in change.directives], change.layout, _encode(change.extra), change.checksum]


def _decode_change(row: list[Any]) -> Change:
    version, description, forward, rollback, file, line, rollback_file, directives, layout, extra, checksum = row
    change = Change(version=version, description=description, forward=_decode_statements(forward),
                    rollback=_decode_statements(rollback), file=file, line=line, rollback_file=rollback_file,
                    directives=tuple(_decode_directive(d) for d in directives), layout=layout, extra=_decode(extra))
    change.__dict__["checksum"] = checksum  # Change.checksum is a cached_property
    return change


def _encode_statements(statements: Any) -> list[Any]:
    if type(statements) is tuple and all(type(s) is Statement for s in statements):
        return ["s", [_encode_statement(s) for s in statements]]
    if type(statements).__name__ == "FileStatements":  # a big file's statements, read again when they run
        return ["lazy", _encode(vars(statements))]
    raise _Uncacheable(type(statements).__name__)


def _decode_statements(value: list[Any]) -> Any:
    kind, body = value
    if kind == "lazy":
        from dualpath.sources.lazy import FileStatements

        statements = FileStatements.__new__(FileStatements)
        vars(statements).update(_decode(body))
        return statements
    return tuple(_decode_statement(row) for row in body)


def _encode_statement(s: Statement) -> list[Any]:
    return [s.text, s.file, s.line, s.no_transaction, [_encode_directive(d) for d in s.directives],
            list(s.span) if s.span is not None else None, s.gexec]


def _decode_statement(row: list[Any]) -> Statement:
    text, file, line, no_transaction, directives, span, gexec = row
    return Statement(text, file, line, no_transaction, tuple(_decode_directive(d) for d in directives),
                     gexec=gexec, span=tuple(span) if span is not None else None)


def _encode_directive(directive: Directive) -> list[Any]:
    return [directive.name, directive.args, directive.file, directive.line]


def _decode_directive(value: list[Any]) -> Directive:
    name, args, file, line = value
    return Directive(name, args, file, line)


def _encode(value: Any) -> Any:
    """Plain values, tagged where JSON would lose their type (a tuple, a path, a directive)."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, tuple):
        return {"~": "tuple", "items": [_encode(v) for v in value]}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {"~": "dict", "items": {k: _encode(v) for k, v in value.items()}}
    if isinstance(value, Path):
        return {"~": "path", "value": str(value)}
    if type(value) is Directive:
        return {"~": "directive", "value": _encode_directive(value)}
    if type(value) is Statement:  # sqitch keeps its verify script's statements
        return {"~": "statement", "value": _encode_statement(value)}
    raise _Uncacheable(type(value).__name__)


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if not isinstance(value, dict):
        return value
    kind = value["~"]
    if kind == "tuple":
        return tuple(_decode(v) for v in value["items"])
    if kind == "dict":
        return {k: _decode(v) for k, v in value["items"].items()}
    if kind == "path":
        return Path(value["value"])
    if kind == "statement":
        return _decode_statement(value["value"])
    return _decode_directive(value["value"])
