"""What a worker reads once and reuses across the tenants it runs: the parsed config and the parsed
migrations, keyed by the files' stamps (path, mtime, digest of the content), so an edited file is read
again, even one rewritten within the file system's mtime tick.

A fan-out runs hundreds of tenant tasks in one worker process, each of which used to read and validate
dualpath.toml and parse every migration file: tens of milliseconds a task for the same answer.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Hashable, Iterable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

Stamp = tuple[tuple[str, int, str], ...]
_MAX_ENTRIES = 64  # keys differ by stamps: an edited file adds an entry, the oldest go


def stamp_files(paths: Iterable[Path | None]) -> Stamp:
    """(path, mtime in ns, digest of the bytes) of each file; a folder stamps with its mtime only, a
    missing file as (path, -1, ""). Hashing a few KB of SQL costs far less than parsing it."""
    found = []
    for path in paths:
        if path is None:
            continue
        try:
            mtime = path.stat().st_mtime_ns
            digest = "" if path.is_dir() else hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
        except OSError:
            found.append((str(path), -1, ""))
        else:
            found.append((str(path), mtime, digest))
    return tuple(found)


def stamp_folder(folder: Path) -> Stamp:
    """The stamps of every file under ``folder`` (links followed), and of the folder itself (a file
    added or removed changes its mtime)."""
    files: list[Path | None] = [folder]
    for root, dirs, names in os.walk(folder, followlinks=True):
        dirs.sort()
        files += [Path(root) / name for name in sorted(names)]
    return stamp_files(files)


class StampedCache:
    """Values by key, a lock around the reads (tasks run in threads); ``loads`` counts real reads."""

    def __init__(self) -> None:
        self._values: dict[Hashable, Any] = {}
        self._lock = threading.Lock()
        self.loads = 0

    def get(self, key: Hashable, load: Callable[[], T]) -> T:
        with self._lock:
            if key in self._values:
                return self._values[key]  # type: ignore[no-any-return]
        value = load()  # outside the lock: a slow read does not stall the other threads' hits
        with self._lock:
            self.loads += 1
            if len(self._values) >= _MAX_ENTRIES:
                self._values.pop(next(iter(self._values)))
            self._values[key] = value
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self.loads = 0


ENVIRONMENTS = StampedCache()
CHANGES = StampedCache()
COMMITS = StampedCache()
SUITES = StampedCache()  # project validation suites (expectations/project.py)
