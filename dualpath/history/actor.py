"""Who does a run, from where, with which commit of the migrations; the time rows are written at."""

from __future__ import annotations

import os
import socket
import subprocess
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from getpass import getuser
from pathlib import Path


@dataclass(frozen=True)
class Actor:
    """Who does this run, from where, with which commit of the migrations."""

    run_id: str
    who: str
    host: str
    git_commit: str | None


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


def make_actor(run_id: str, migrations: Path, who: str | None = None) -> Actor:
    return Actor(run_id=run_id, who=who or current_user(), host=socket.gethostname(),
                 git_commit=git_commit_of(migrations))


def current_user() -> str:
    """Who runs this: $DUALPATH_USER, else the login name."""
    try:
        return os.environ.get("DUALPATH_USER") or getuser()
    except (OSError, KeyError):  # no passwd entry in some containers
        return "unknown"


def git_commit_of(folder: Path) -> str | None:
    """The commit of the migrations folder when it lives in a git repository."""
    try:
        done = subprocess.run(["git", "-C", str(folder), "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None
