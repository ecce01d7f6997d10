"""Dump and restore, as every dialect does them: the ``Dumper`` contract, where the client tools are,
and running them. Each dialect's Dumper is in ``engines/<dialect>/dump.py``; ``Engine.dumper`` gives it.

Passwords reach the client tools through their environment variables only — never argv, never a log line.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Protocol

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection
from sqlalchemy.engine import URL

from dualpath.errors import BackupFailed, InputError
from dualpath.urls import redact

__all__ = ["Dumper", "ToolSettings", "find_tool", "run_tool", "tool_version"]


class ToolSettings(BaseModel):
    """Where the client tools are; None means: search PATH."""

    model_config = ConfigDict(extra="forbid")

    pg_dump: str | None = None
    pg_restore: str | None = None
    mysqldump: str | None = None  # mysqldump or mariadb-dump
    mysql: str | None = None  # mysql or mariadb client
    timeout_s: int = Field(default=6 * 3600, ge=1)


def find_tool(names: Sequence[str], configured: str | None, setting: str, install: str) -> str:
    """The executable to run: the configured path, else the first of ``names`` on PATH."""
    if configured:
        if os.path.isfile(configured) and os.access(configured, os.X_OK):
            return configured
        raise InputError(f"configured {setting} '{configured}' does not exist or is not executable",
                         hint=f"fix backup.tools.{setting}, or unset it to search PATH")
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise InputError(f"{' or '.join(names)} not found on PATH",
                     hint=f"install {install}, or set backup.tools.{setting} to its full path")


def run_tool(argv: list[str], env: dict[str, str], timeout_s: int, secret: str | None = None,
             stdin: IO[bytes] | None = None) -> str:
    """Run a client tool; a non-zero exit becomes BackupFailed with its stderr, scrubbed."""
    label = os.path.basename(argv[0])
    try:
        done = subprocess.run(argv, env=env, stdin=stdin, capture_output=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise BackupFailed(f"{label} did not finish within {timeout_s} s",
                           hint="raise backup.tools.timeout_s, or back up fewer tables") from None
    except OSError as exc:
        raise BackupFailed(f"cannot run {label}: {exc.strerror}", hint="check the tool's path") from None
    if done.returncode != 0:
        text = done.stderr.decode("utf-8", "replace").strip()
        if secret:
            text = text.replace(secret, "***")
        tail = "\n".join(text.splitlines()[-8:]) or "(no output)"
        raise BackupFailed(f"{label} failed (exit {done.returncode}): {redact(tail)}",
                           hint=f"fix what {label} says above (tool version, access to the database), then run again")
    return done.stdout.decode("utf-8", "replace").strip()


def tool_version(path: str) -> str:
    """First line of ``<tool> --version``, for the manifest."""
    out = run_tool([path, "--version"], dict(os.environ), 30)
    return out.splitlines()[0] if out else os.path.basename(path)


class Dumper(Protocol):
    """Dump and restore for one engine."""

    engine: str
    suffix: str  # artifact file extension
    partial: bool  # can dump a subset of tables
    shares_artifact: bool  # can dump several schemas of a database at once and restore one of them

    def check_tools(self) -> None: ...  # raises InputError before anything runs

    def version(self) -> str: ...

    def share_snapshot(self, conn: Connection) -> str | None: ...  # first thing on a fresh connection

    def database_url(self, url: URL) -> URL: ...  # a schema tenant's URL without its schema

    def adopt_snapshot(self, conn: Connection, snapshot: str) -> None: ...  # read what share_snapshot exported

    def dump(self, url: URL, tables: list[str] | None, out: Path, snapshot: str | None = None) -> None: ...

    def restore(self, url: URL, artifact: Path, schema: str | None = None) -> None: ...  # schema: of a shared one
