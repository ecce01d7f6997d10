"""Per-dialect dump and restore: pg_dump/pg_restore, mysqldump/mysql, SQLite's online backup API.

These belong in ``dualpath/engines/`` (engines know dump/restore) and will move there; until
then ``dumper_for(engine_name)`` picks one by the engine's name. Passwords reach the client
tools through their environment variables only — never argv, never a log line.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Protocol

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection
from sqlalchemy.engine import URL

from dualpath.engines.base import CONNECT_TIMEOUT_S
from dualpath.errors import DualpathError, InputError
from dualpath.urls import endpoint, password_of, redact

__all__ = ["BackupFailed", "Dumper", "MysqlDumper", "PostgresDumper", "SqliteDumper", "ToolSettings",
           "dumper_for"]


class BackupFailed(DualpathError):
    """A dump, restore or transfer failed; the database was not changed by it (exit 4)."""

    exit_code = 4


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

    def check_tools(self) -> None: ...  # raises InputError before anything runs

    def version(self) -> str: ...

    def share_snapshot(self, conn: Connection) -> str | None: ...  # first thing on a fresh connection

    def dump(self, url: URL, tables: list[str] | None, out: Path, snapshot: str | None = None) -> None: ...

    def restore(self, url: URL, artifact: Path) -> None: ...


class PostgresDumper:
    """pg_dump -Fc (custom format: compressed, restorable table by table) and pg_restore."""

    engine = "postgresql"
    suffix = ".dump"
    partial = True
    install = "the PostgreSQL client (postgresql-client; at least the server's major version)"

    def __init__(self, settings: ToolSettings) -> None:
        self.settings = settings

    def check_tools(self) -> None:
        self.dump_tool()
        self.restore_tool()

    def dump_tool(self) -> str:
        return find_tool(["pg_dump"], self.settings.pg_dump, "pg_dump", self.install)

    def restore_tool(self) -> str:
        return find_tool(["pg_restore"], self.settings.pg_restore, "pg_restore", self.install)

    def version(self) -> str:
        return tool_version(self.dump_tool())

    def env(self, url: URL) -> dict[str, str]:
        env = dict(os.environ, PGHOST=url.host or "localhost", PGPORT=str(url.port or 5432),
                   PGDATABASE=url.database or "postgres", PGCONNECT_TIMEOUT=str(CONNECT_TIMEOUT_S))
        if url.username:
            env["PGUSER"] = url.username
        if password_of(url) is not None:  # user:password@ or ?password=
            env["PGPASSWORD"] = str(password_of(url))
        # options carries a schema tenant's search_path: pg_dump -t must resolve names in that schema
        for key, var in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT"), ("options", "PGOPTIONS")):
            value = url.query.get(key)
            if isinstance(value, str):
                env[var] = value
        return env

    def share_snapshot(self, conn: Connection) -> str | None:
        """Our reads and pg_dump's see the same data: it dumps the snapshot this transaction exports."""
        conn.rollback()
        conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        return str(conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar())

    def dump(self, url: URL, tables: list[str] | None, out: Path, snapshot: str | None = None) -> None:
        argv = [self.dump_tool(), "-Fc", "--no-owner", "--no-privileges", "-f", str(out)]
        if snapshot:
            argv.append(f"--snapshot={snapshot}")
        if tables is not None:
            # Quoted so pg_dump matches the exact name, not a lower-cased pattern.
            argv.append("--strict-names")
            for table in tables:
                argv += ["-t", ".".join('"' + p.replace('"', '""') + '"' for p in table.split("."))]
        run_tool(argv, self.env(url), self.settings.timeout_s, _password(url))

    def restore(self, url: URL, artifact: Path) -> None:
        argv = [self.restore_tool(), "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
                "-d", url.database or "postgres", str(artifact)]
        run_tool(argv, self.env(url), self.settings.timeout_s, _password(url))


class MysqlDumper:
    """mysqldump --single-transaction (a consistent InnoDB snapshot, no table locks) and mysql < dump."""

    engine = "mysql"
    suffix = ".sql"
    partial = True
    install = "the MySQL or MariaDB client (mysql-client / mariadb-client)"

    def __init__(self, settings: ToolSettings) -> None:
        self.settings = settings

    def check_tools(self) -> None:
        self.dump_tool()
        self.client_tool()

    def dump_tool(self) -> str:
        return find_tool(["mysqldump", "mariadb-dump"], self.settings.mysqldump, "mysqldump", self.install)

    def client_tool(self) -> str:
        return find_tool(["mysql", "mariadb"], self.settings.mysql, "mysql", self.install)

    def version(self) -> str:
        return tool_version(self.dump_tool())

    def env(self, url: URL) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("MYSQL_PWD", None)
        if password_of(url) is not None:  # user:password@, ?password= or ?passwd=
            env["MYSQL_PWD"] = str(password_of(url))
        return env

    def connection_args(self, url: URL) -> list[str]:
        socket = url.query.get("unix_socket")
        args = [f"--socket={socket}"] if isinstance(socket, str) else [
            "--protocol=TCP", f"--host={url.host or '127.0.0.1'}", f"--port={url.port or 3306}"]
        if url.username:
            args.append(f"--user={url.username}")
        return args + ["--default-character-set=utf8mb4"]

    def share_snapshot(self, conn: Connection) -> str | None:
        return None  # --single-transaction opens its own snapshot; counts are read just before

    def dump(self, url: URL, tables: list[str] | None, out: Path, snapshot: str | None = None) -> None:
        argv = [self.dump_tool(), *self.connection_args(url), "--single-transaction", "--quick",
                "--no-tablespaces", "--hex-blob", "--triggers", f"--result-file={out}"]
        if tables is None:
            argv += ["--routines", "--events"]
        # No --databases: the dump carries no CREATE DATABASE/USE, so it restores under any name.
        argv.append(url.database or "")
        argv += [t.rsplit(".", 1)[-1] for t in tables or []]
        run_tool(argv, self.env(url), self.settings.timeout_s, _password(url))

    def restore(self, url: URL, artifact: Path) -> None:
        argv = [self.client_tool(), *self.connection_args(url), "--binary-mode", f"--database={url.database}"]
        with artifact.open("rb") as dump:
            run_tool(argv, self.env(url), self.settings.timeout_s, _password(url), stdin=dump)


class SqliteDumper:
    """SQLite's online backup API: a consistent copy of the whole file while others write."""

    engine = "sqlite"
    suffix = ".sqlite3"
    partial = False  # the backup API copies pages, not tables

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

    def restore(self, url: URL, artifact: Path) -> None:
        target = Path(endpoint(url))
        partial = target.with_name(target.name + ".restoring")
        shutil.copyfile(artifact, partial)
        os.replace(partial, target)  # atomic: a reader never sees half a file


_DUMPERS: dict[str, type[PostgresDumper] | type[MysqlDumper] | type[SqliteDumper]] = {
    "postgresql": PostgresDumper,
    "mysql": MysqlDumper,
    "sqlite": SqliteDumper,
}


def dumper_for(engine_name: str, settings: ToolSettings | None = None) -> Dumper:
    """The Dumper for an engine name ("postgresql", "mysql", "sqlite")."""
    try:
        cls = _DUMPERS[engine_name]
    except KeyError:
        raise InputError(f"no backup support for engine '{engine_name}'",
                         hint=f"back up with one of: {', '.join(sorted(_DUMPERS))}") from None
    return cls(settings or ToolSettings())


def _password(url: URL) -> str | None:
    return password_of(url)
