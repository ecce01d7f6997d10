"""Opening migration files safely and reading them as text, a chunk at a time.

Two promises live here. Every file a reader opens stays inside the migrations folder (a link
that leaves it is refused unless ``[sources] follow_links_outside`` allows it) and is a regular
file (a FIFO or /dev/zero would hang a reader). And every byte is accounted for: text is UTF-8
(a leading BOM is skipped), line ends become LF, and what no database reads as the file says
(a NUL byte, UTF-16, invalid UTF-8) is refused with file:line before anything runs.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import stat
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from dualpath.errors import InputError

CHUNK = 1 << 20  # bytes read at a time: memory follows the statement, not the file
_BOM = b"\xef\xbb\xbf"
_WIDE_BOMS = ((b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe\x00\x00", "UTF-32"),
              (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"))
_REENCODE = "re-save the file as UTF-8 (most editors offer it under 'Save with encoding')"
LINKS_HINT = ("replace the link with the file itself, or allow links that leave the folder with "
              "[sources] follow_links_outside = true in dualpath.toml")


@dataclass(frozen=True)
class Folder:
    """The migrations folder being read, and whether links may leave it."""

    root: Path  # its real path
    given: Path  # as the command line or config spelled it
    follow_links_outside: bool = False


_reading: ContextVar[Folder | None] = ContextVar("dualpath_reading", default=None)


@contextlib.contextmanager
def reading_from(folder: Path, follow_links_outside: bool = False) -> Iterator[Folder]:
    """Files opened inside this block are checked against ``folder``."""
    current = Folder(Path(os.path.realpath(folder)), Path(folder), follow_links_outside)
    token = _reading.set(current)
    try:
        yield current
    finally:
        _reading.reset(token)


def check_path(path: Path) -> Path:
    """The real path of a file a reader wants, refused if it is a loop, leaves the folder or is no file."""
    try:
        real = Path(os.path.realpath(path, strict=True))
    except OSError as exc:
        raise InputError(f"cannot follow {path}: {exc.strerror or exc}", where=f"{path}:1",
                         hint="fix or remove the link (a link loop, or a link to a file that does not exist)"
                         ) from None
    folder = _reading.get()
    if folder is not None and not folder.follow_links_outside and not real.is_relative_to(folder.root):
        link = first_link(path, folder.given)
        raise InputError(f"{link} is a link to {real}, outside the migrations folder {folder.root}; "
                         "it was not read", where=f"{link}:1", hint=LINKS_HINT)
    return real


def first_link(path: Path, folder: Path) -> Path:
    """The first part of ``path`` below ``folder`` that is a symbolic link: the one to name in an error."""
    if not path.is_relative_to(folder):
        return path
    current = folder
    for part in path.relative_to(folder).parts:
        current = current / part
        if current.is_symlink():
            return current
    return path


def check_entry(path: Path) -> None:
    """A folder entry a reader may use: links must resolve inside the folder, and only files and
    folders are welcome (a FIFO, socket or device named like a migration is refused, not skipped)."""
    if path.is_symlink():
        check_path(path)
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}", where=f"{path}:1",
                         hint="check the file's permissions") from None
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise InputError(f"{path} is a {_kind_of(mode)}, not a regular file; it was not read",
                         where=f"{path}:1", hint="replace it with a regular file holding the SQL, or remove it")


def list_folder(folder: Path) -> list[Path]:
    """Visible entries of ``folder``, sorted, each checked (hidden ones, .git or .DS_Store, are skipped)."""
    entries = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    for entry in entries:
        check_entry(entry)
    return entries


def walk_files(folder: Path) -> list[Path]:
    """Every regular file below ``folder`` (hidden folders skipped), following links to folders
    inside it once each; a link that leaves the folder or loops is refused by check_entry."""
    found: list[Path] = []
    seen: set[str] = set()
    pending = [folder]
    while pending:
        current = pending.pop()
        real = os.path.realpath(current)
        if real in seen:
            continue  # a link back to a folder already walked
        seen.add(real)
        for entry in list_folder(current):
            (pending if entry.is_dir() else found).append(entry)
    return sorted(found)


def open_file(path: Path) -> BinaryIO:
    """Open a migration file for reading; refuse links out, loops and anything but a regular file."""
    check_path(path)
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; we refuse it right after
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise InputError(f"cannot open {path}: {exc.strerror or exc}", where=f"{path}:1",
                         hint="check the file's permissions") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise InputError(f"{path} is a {_kind_of(mode)}, not a regular file; it was not read",
                         where=f"{path}:1", hint="replace it with a regular file holding the SQL, or remove it")
    if hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def _kind_of(mode: int) -> str:
    kinds = ((stat.S_ISDIR, "folder"), (stat.S_ISFIFO, "named pipe (FIFO)"), (stat.S_ISCHR, "character device"),
             (stat.S_ISBLK, "block device"), (stat.S_ISSOCK, "socket"))
    return next((name for test, name in kinds if test(mode)), "special file")


def iter_text(path: Path, chunk: int = CHUNK, digest: Any = None) -> Iterator[str]:
    """The file's text in pieces: UTF-8, BOM skipped, CRLF and lone CR turned into LF.

    Refuses (InputError naming file:line) invalid UTF-8, UTF-16/32 and NUL bytes: no
    database would run such a file as written, and PostgreSQL silently stops at a NUL.
    ``digest`` (a hashlib object) is fed the file's bytes as they are read.
    """
    with open_file(path) as handle:
        yield from _decode(_Hashing(handle, digest) if digest is not None else handle, path, chunk)


class _Hashing:
    """A file that feeds what is read from it to a digest."""

    def __init__(self, handle: BinaryIO, digest: Any) -> None:
        self.handle, self.digest = handle, digest

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data


def _decode(handle: BinaryIO | _Hashing, path: Path, chunk: int) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    line, first, pending_cr = 1, True, False
    while True:
        data = handle.read(chunk)
        final = not data
        if first:
            data = _skip_bom(data, handle, path)
            first = False
        try:
            text = decoder.decode(data, final=final)
        except UnicodeDecodeError as exc:
            raise _not_utf8(path, line + exc.object[: exc.start].count(b"\n"), exc.object[exc.start]) from None
        if pending_cr:
            text, pending_cr = "\r" + text, False
        if text.endswith("\r") and not final:
            text, pending_cr = text[:-1], True  # the LF of a CRLF may start the next piece
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        nul = text.find("\0")
        if nul >= 0:
            raise _nul_byte(path, line + text.count("\n", 0, nul), text)
        line += text.count("\n")
        if text:
            yield text
        if final:
            return


def _skip_bom(data: bytes, handle: BinaryIO | _Hashing, path: Path) -> bytes:
    while len(data) < 4:  # a BOM is at most four bytes; short reads happen
        more = handle.read(4 - len(data))
        if not more:
            break
        data += more
    if data.startswith(_BOM):
        return data[len(_BOM):]
    for bom, name in _WIDE_BOMS:
        if data.startswith(bom):
            raise InputError(f"{name} text (it starts with a {name} byte-order mark); dualpath reads UTF-8",
                             where=f"{path}:1", hint=_REENCODE)
    return data


def _not_utf8(path: Path, line: int, byte: int) -> InputError:
    return InputError(f"not UTF-8 text: byte 0x{byte:02x} at line {line}; re-save the file as UTF-8",
                      where=f"{path}:{line}", hint=_REENCODE)


def _nul_byte(path: Path, line: int, text: str) -> InputError:
    wide = text.count("\0") * 3 > len(text)  # every other byte NUL: UTF-16 without a byte-order mark
    what = "UTF-16 text, it seems (every other byte is NUL)" if wide else "a NUL byte (0x00)"
    return InputError(f"{what} at line {line}: no database runs it as written (PostgreSQL stops reading "
                      "at a NUL and silently drops the rest of the statement)", where=f"{path}:{line}",
                      hint=_REENCODE if wide else "remove the NUL byte; write binary data as an escaped literal")


def read_text(path: Path) -> str:
    """The whole file as text (see :func:`iter_text`); for files that are small by nature."""
    return "".join(iter_text(path))


def peek_line(path: Path, size: int = 200) -> str:
    """The start of the first line (layout detection), read through the same checks."""
    with open_file(path) as handle:
        first = handle.readline(size)
        first = _skip_bom(first, handle, path)  # refuses UTF-16/32 here already, naming the file
    if b"\0" in first:
        raise _nul_byte(path, 1, first.decode("latin-1"))
    return first.decode("utf-8", errors="replace")
