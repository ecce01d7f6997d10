"""SQLite backups with the online backup API: no client tool, a consistent copy while others write."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

from sqlalchemy import Connection
from sqlalchemy.engine import URL

from dualpath.engines.dump import ToolSettings
from dualpath.errors import BackupFailed, InputError
from dualpath.urls import endpoint


class SqliteDumper:
    """SQLite's online backup API: a consistent copy of the whole file while others write."""

    engine = "sqlite"
    suffix = ".sqlite3"
    partial = False  # the backup API copies pages, not tables
    shares_artifact = False  # one artifact per backup

    def __init__(self, settings: ToolSettings) -> None:
        self.settings = settings

    def check_tools(self) -> None:
        return None  # sqlite3 is part of Python

    def version(self) -> str:
        return f"sqlite3 {sqlite3.sqlite_version} (online backup API)"

    def share_snapshot(self, conn: Connection) -> str | None:
        return None  # counts are read just before the copy

    def dump(self, url: URL, tables: list[str] | None, out: Path, snapshot: str | None = None) -> None:
        source = endpoint(url)
        if not os.path.isfile(source):
            raise InputError(f"database file {source} does not exist", where=source,
                             hint="check the --url path")
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        dst = sqlite3.connect(out)
        try:
            src.backup(dst)
        except sqlite3.Error as exc:
            raise BackupFailed(f"SQLite backup of {source} failed: {exc}",
                               hint="check the file is a readable SQLite database and the destination has "
                                    "room") from None
        finally:
            dst.close()
            src.close()

    def database_url(self, url: URL) -> URL:
        return url

    def adopt_snapshot(self, conn: Connection, snapshot: str) -> None:
        raise BackupFailed(f"{self.engine} backups are not shared: no snapshot to read", hint="back up each tenant")

    def restore(self, url: URL, artifact: Path, schema: str | None = None) -> None:
        target = Path(endpoint(url))
        partial = target.with_name(target.name + ".restoring")
        shutil.copyfile(artifact, partial)
        os.replace(partial, target)  # atomic: a reader never sees half a file
