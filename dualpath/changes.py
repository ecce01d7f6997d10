"""The model every reader yields and every later stage consumes: Change, Statement, Directive."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Directive:
    """A ``-- dualpath:<name> key=value ...`` comment, parsed and kept with its location."""

    name: str
    args: dict[str, str]
    file: str
    line: int

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True)
class Statement:
    """One SQL statement as it stands in its file (text without the trailing delimiter)."""

    text: str
    file: str
    line: int
    no_transaction: bool = False
    directives: tuple[Directive, ...] = ()
    # where the text stands in what the splitter was given (start, end offsets); not part of identity
    span: tuple[int, int] | None = field(default=None, compare=False, repr=False)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def directive(self, name: str) -> Directive | None:
        return next((d for d in self.directives if d.name == name), None)


@dataclass(frozen=True)
class Change:
    """One versioned migration: forward statements and the rollback that undoes them."""

    version: str
    description: str
    forward: tuple[Statement, ...]
    rollback: tuple[Statement, ...]
    file: str
    line: int = 1
    rollback_file: str | None = None
    directives: tuple[Directive, ...] = ()
    layout: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def checksum(self) -> str:
        return checksum_of(self.forward, self.rollback)

    @property
    def no_transaction(self) -> bool:
        """True when any part must run outside a transaction (e.g. CREATE INDEX CONCURRENTLY)."""
        return self.directive("no-transaction") is not None or any(s.no_transaction for s in self.forward)

    @property
    def irreversible(self) -> Directive | None:
        return self.directive("irreversible")

    @property
    def ticket(self) -> str | None:
        found = self.directive("ticket")
        return found.args.get("id") if found else None

    def ticket_by(self, pattern: str | None) -> str | None:
        """The ticket directive, else the first match of the configured pattern in the description or file."""
        if self.ticket or not pattern:
            return self.ticket
        found = re.search(pattern, f"{self.description} {self.file}")
        return found.group(0) if found else None

    def directive(self, name: str) -> Directive | None:
        for d in self.directives:
            if d.name == name:
                return d
        for s in self.forward:
            found = s.directive(name)
            if found:
                return found
        return None

    @property
    def sort_key(self) -> tuple[int, ...]:
        return version_key(self.version)


_DIGITS = re.compile(r"\d+")


def version_key(version: str) -> tuple[int, ...]:
    """Order versions by their numbers, not their spelling.

    Real folders mix ``20170309122510`` and ``2017-09-23-182408``; both become digits
    joined together when they look like timestamps, and dotted versions (``1.10``)
    compare part by part.
    """
    parts = _DIGITS.findall(version)
    if not parts:
        return ()
    if len(parts) > 1 and re.fullmatch(r"[\d._]+", version):
        return tuple(int(p) for p in parts)
    return (int("".join(parts)),)


def normalise_sql(text: str) -> str:
    """Line endings, trailing blanks and surrounding blank lines do not change a checksum."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(lines).strip("\n")


def checksum_of(forward: tuple[Statement, ...], rollback: tuple[Statement, ...]) -> str:
    digest = hashlib.sha256()
    for s in forward:
        digest.update(normalise_sql(s.text).encode())
        digest.update(b"\n;\n")
    digest.update(b"\n--rollback--\n")
    for s in rollback:
        digest.update(normalise_sql(s.text).encode())
        digest.update(b"\n;\n")
    return digest.hexdigest()
