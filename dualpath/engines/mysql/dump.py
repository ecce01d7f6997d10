"""mysqldump and the mysql client for backups: passwords through MYSQL_PWD, never argv."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Connection
from sqlalchemy.engine import URL

from dualpath.engines.dump import ToolSettings, find_tool, run_tool, tool_version
from dualpath.errors import BackupFailed
from dualpath.urls import password_of


class MysqlDumper:
    """mysqldump --single-transaction (a consistent InnoDB snapshot, no table locks) and mysql < dump."""

    engine = "mysql"
    suffix = ".sql"
    partial = True
    shares_artifact = False  # one artifact per backup
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
        run_tool(argv, self.env(url), self.settings.timeout_s, password_of(url))

    def database_url(self, url: URL) -> URL:
        return url

    def adopt_snapshot(self, conn: Connection, snapshot: str) -> None:
        raise BackupFailed(f"{self.engine} backups are not shared: no snapshot to read", hint="back up each tenant")

    def restore(self, url: URL, artifact: Path, schema: str | None = None) -> None:
        argv = [self.client_tool(), *self.connection_args(url), "--binary-mode", f"--database={url.database}"]
        with artifact.open("rb") as dump:
            run_tool(argv, self.env(url), self.settings.timeout_s, password_of(url), stdin=dump)
