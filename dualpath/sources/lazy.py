"""Statements of a big file, read from the file each time they are needed, one at a time.

A 50 MB data load holds 700,000 statements; keeping them all (and their tokens) cost 35 times
the file in memory. Reading scans such a file once (checking it, counting its statements,
collecting its directives and feeding the checksum) and keeps only that; running it reads the
statements again, one at a time. The file must not change in between: its size, modification
time and SHA-256 are checked when it is read again, and a change is refused.
"""

from __future__ import annotations

import hashlib
import itertools
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, overload

from dualpath.changes import Directive, Statement
from dualpath.errors import InputError
from dualpath.sources.files import iter_text
from dualpath.sql.stream import iter_split

LAZY_BYTES = 1 << 20  # files above this size are read again when run instead of kept in memory


def stamp_of(path: Path) -> tuple[int, int]:
    info = os.stat(path)
    return info.st_size, info.st_mtime_ns


class FileStatements(Sequence[Statement]):
    """The statements of one file (a tuple's behaviour, a file's memory); ``skip_first`` and
    ``skip_last`` drop a transaction wrapper (sqitch's BEGIN/COMMIT), ``moved`` are directives of
    a dropped BEGIN that belong to the statement after it."""

    def __init__(self, path: Path, dialect: str | None, *, count: int, directives: tuple[Directive, ...],
                 no_transaction: bool, stamp: tuple[int, int], sha256: str, session_change: bool = True,
                 skip_first: bool = False, skip_last: bool = False, moved: tuple[Directive, ...] = ()) -> None:
        self.path, self.dialect = path, dialect
        self.size = count
        self.all_directives = directives  # every statement's directives, in order
        self.any_no_transaction = no_transaction
        self.any_session_change = session_change  # changes.any_session_change, found while scanning
        self.stamp, self.sha256 = stamp, sha256
        self.skip_first, self.skip_last, self.moved = skip_first, skip_last, moved

    def __iter__(self) -> Iterator[Statement]:
        if stamp_of(self.path) != self.stamp:
            raise self._changed()
        digest = hashlib.sha256()
        statements = iter_split(iter_text(self.path, digest=digest), file=str(self.path), dialect=self.dialect)
        if self.skip_first:
            next(statements, None)
        for index, statement in enumerate(itertools.islice(statements, self.size)):
            if index == 0 and self.moved:
                statement = _with_moved(statement, self.moved)
            yield statement
        for _ in statements:
            pass  # the rest (a dropped COMMIT) still feeds the digest
        if digest.hexdigest() != self.sha256:
            raise self._changed()

    def _changed(self) -> InputError:
        return InputError(f"{self.path} changed while dualpath was using it", where=f"{self.path}:1",
                          hint="let the file be while a command runs, then run the command again")

    def __len__(self) -> int:
        return self.size

    @overload
    def __getitem__(self, index: int) -> Statement: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Statement]: ...

    def __getitem__(self, index: int | slice) -> Statement | Sequence[Statement]:
        if isinstance(index, slice):
            return tuple(self)[index]
        position = index + self.size if index < 0 else index
        if not 0 <= position < self.size:
            raise IndexError(index)
        return next(itertools.islice(iter(self), position, None))

    def __add__(self, other: Sequence[Statement]) -> tuple[Statement, ...]:
        return (*self, *other)

    def __radd__(self, other: Sequence[Statement]) -> tuple[Statement, ...]:
        return (*other, *self)

    def __eq__(self, other: Any) -> bool:
        if isinstance(other, FileStatements):
            return (self.path, self.stamp, self.sha256, self.skip_first, self.skip_last) == (
                other.path, other.stamp, other.sha256, other.skip_first, other.skip_last)
        return isinstance(other, Sequence) and tuple(self) == tuple(other)

    def __hash__(self) -> int:
        return hash((self.path, self.sha256, self.skip_first, self.skip_last))

    def __repr__(self) -> str:
        return f"FileStatements({str(self.path)!r}, {self.size} statements)"


def _with_moved(statement: Statement, moved: tuple[Directive, ...]) -> Statement:
    from dataclasses import replace

    no_tx = statement.no_transaction or any(d.name == "no-transaction" for d in moved)
    return replace(statement, directives=moved + statement.directives, no_transaction=no_tx)
