"""The model every reader yields and every later stage consumes: Change, Statement, Directive."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
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
    # ended by psql's \gexec: run it, then run each value it returns as a statement (engines/verbatim.py)
    gexec: bool = False
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
    # a tuple, or for a big file a sequence that reads the file again when iterated (sources/lazy.py)
    forward: Sequence[Statement]
    rollback: Sequence[Statement]
    file: str
    line: int = 1
    rollback_file: str | None = None
    directives: tuple[Directive, ...] = ()
    layout: str = ""
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    @cached_property
    def checksum(self) -> str:
        """Readers that scanned a big file once set it while reading (see sources/common.py)."""
        return checksum_of(self.forward, self.rollback)

    @cached_property
    def changes_session(self) -> bool:
        """True when a statement of either direction may change the session for what follows it
        (apply resets the session after such a change only)."""
        return any_session_change(self.forward) or any_session_change(self.rollback or ())

    @property
    def no_transaction(self) -> bool:
        """True when any part must run outside a transaction (e.g. CREATE INDEX CONCURRENTLY)."""
        return self.directive("no-transaction") is not None or any_no_transaction(self.forward)

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
        return next((d for d in statement_directives(self.forward) if d.name == name), None)

    @property
    def sort_key(self) -> tuple[int, ...]:
        return version_key(self.version)


_DIGITS = re.compile(r"\d+")
REPEATABLE = "R__"  # Flyway's repeatable migrations: "R__<description>" is their version
_AFTER_ALL = 10**40  # repeatables run after every versioned change, in description order


def is_repeatable(version: str) -> bool:
    """A change that runs again whenever its checksum changes (Flyway ``R__x.sql``), never rolled back."""
    return version.startswith(REPEATABLE)


def version_key(version: str) -> tuple[int, ...]:
    """Order versions by their numbers, not their spelling.

    Real folders mix ``20170309122510`` and ``2017-09-23-182408``; both become digits
    joined together when they look like timestamps, and dotted versions (``1.10``)
    compare part by part. Repeatables (``R__views``) come after all of them, by description.
    """
    if is_repeatable(version):
        return (_AFTER_ALL, *(ord(c) for c in version[len(REPEATABLE):]))
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


ROLLBACK_MARK = b"\n--rollback--\n"


def checksum_of(forward: Iterable[Statement], rollback: Iterable[Statement]) -> str:
    digest = hashlib.sha256()
    feed_checksum(digest, forward)
    digest.update(ROLLBACK_MARK)
    feed_checksum(digest, rollback)
    return digest.hexdigest()


def feed_checksum(digest: Any, statements: Iterable[Statement]) -> None:
    """What one part adds to a change's checksum (sha256 over the normalised statements)."""
    for s in statements:
        digest.update(normalise_sql(s.text).encode())
        digest.update(b"\n\\gexec\n" if s.gexec else b"\n;\n")


def statement_directives(statements: Sequence[Statement]) -> Iterator[Directive]:
    """Every statement's directives in order; a big file's were collected when it was read."""
    known = getattr(statements, "all_directives", None)
    if known is not None:
        return iter(known)
    return (d for s in statements for d in s.directives)


# what can change a session for the statements after it: SET/RESET/USE at a line's start (inside a DO
# block too), set_config(), SET ROLE / SESSION AUTHORIZATION
SESSION_CHANGE = re.compile(r"(?im)^\s*(set|reset|use)\b|set_config|\brole\b|session\s+authorization")


def any_session_change(statements: Sequence[Statement]) -> bool:
    """Whether a statement may change the session; a big file's answer was collected when it was read."""
    known = getattr(statements, "any_session_change", None)
    if known is not None:
        return bool(known)
    return any(SESSION_CHANGE.search(s.text) for s in statements)


def any_no_transaction(statements: Sequence[Statement]) -> bool:
    known = getattr(statements, "any_no_transaction", None)
    if known is not None:
        return bool(known)
    return any(s.no_transaction for s in statements)
