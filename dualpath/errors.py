"""One exception type per kind of failure; the CLI and the flows catch them once.

Each carries where it happened (file:line, tenant/step, host:port) and what to do next,
so a person can act on it without a traceback.
"""

from __future__ import annotations

from dualpath.redaction import redact


class DualpathError(Exception):
    """Base class: a failure explained for people. ``exit_code`` follows the design.

    Its text goes through the one redaction when it is made and again when it is shown (``where``
    is set later at times): a URL or a driver error inside it never carries its password out."""

    exit_code = 2

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None) -> None:
        message = redact(message)
        super().__init__(message)
        self.message = message
        self.where = redact(where) if where else where
        self.hint = redact(hint) if hint else hint

    def __str__(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        if self.hint:
            text += f"\n  next: {self.hint}"
        return redact(text)


class InputError(DualpathError):
    """A migration file, directive or config value is wrong (exit 2)."""


class UsageError(DualpathError):
    """The command line asks for something that does not exist (exit 2)."""


class ConnectionFailed(DualpathError):
    """The database cannot be reached (exit 2); names host:port, never the password."""


class PrivilegeMissing(DualpathError):
    """The database user may not do what the command needs (create a database, a table...) (exit 2):
    names the user, the privilege and where, and the grant or setting that gets around it."""


class TargetRefused(DualpathError):
    """The target is locked, drifted or outside its window: nothing ran (exit 3)."""

    exit_code = 3


class RunFailed(DualpathError):
    """A change failed while running; what ran was rolled back or is listed (exit 4)."""

    exit_code = 4


class LockTimeout(DualpathError):
    """A statement waited longer than the lock timeout for a lock held by someone else."""

    exit_code = 4


class VerificationFailed(DualpathError):
    """A round trip or a check found a difference (exit 1)."""

    exit_code = 1


class BackupFailed(DualpathError):
    """A dump, restore or transfer failed; the database was not changed by it (exit 4)."""

    exit_code = 4
