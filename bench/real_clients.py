"""The other side of bench/real_folders.py: the same folder applied by the database's own client, file by
file (psql, mariadb), or by the layout's own tool where a plain client cannot read the files (dbmate,
Liquibase, sqitch); and what those tools leave behind (their history table's DDL and rows).

Each client stops at the first file that fails, as a person running them by hand would, and says how
many changes it applied.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

PG_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"
MARIADB_SERVER = "mysql://root@127.0.0.1:3306/mysql"
_NOT_IN_TRANSACTION = ("cannot run inside a transaction block", "cannot be executed inside a transaction block",
                       "cannot be executed from a function")


@dataclass
class ClientRun:
    """What one client did: how many changes it applied before it stopped, and why it stopped."""

    client: str
    applied: int = 0
    total: int = 0
    error: str | None = None
    seconds: float = 0.0
    history: dict[str, Any] = field(default_factory=dict)  # the tool's own tables, as it left them

    def as_dict(self) -> dict[str, Any]:
        return {"client": self.client, "applied": self.applied, "total": self.total, "error": self.error,
                "seconds": round(self.seconds, 2), "history": self.history}


def database_url(engine: str, name: str) -> str:
    server = PG_SERVER if engine == "postgresql" else MARIADB_SERVER
    return server.rsplit("/", 1)[0] + "/" + name


def _tail(text: str, limit: int = 400) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return " | ".join(lines[-3:])[-limit:] if lines else ""


def psql_file(url: str, path: Path, single_transaction: bool, cwd: Path | None = None) -> str | None:
    """psql -f on one file; the error text, or None."""
    args = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, "-f", str(path)]
    if single_transaction:
        args.insert(3, "--single-transaction")
    done = subprocess.run(args, capture_output=True, text=True, cwd=cwd)
    return None if done.returncode == 0 else _tail(done.stderr or done.stdout)


def mariadb_file(url: str, path: Path) -> str | None:
    """`mariadb db < file`, as a person pipes a file into the client."""
    parts = make_url(url)
    with path.open("rb") as source:
        done = subprocess.run(["mariadb", "-h", parts.host or "127.0.0.1", "-P", str(parts.port or 3306),
                               "-u", parts.username or "root", parts.database or ""],
                              stdin=source, capture_output=True)
    return None if done.returncode == 0 else _tail(done.stderr.decode("utf-8", "replace"))


def forward_files(folder: Path, layout: str) -> list[Path]:
    """The forward files of a diesel, golang-migrate or Flyway folder, in their tool's order."""
    if layout == "diesel":
        dirs = [d for d in folder.iterdir() if d.is_dir() and (d / "up.sql").is_file()]
        return [d / "up.sql" for d in sorted(dirs, key=lambda d: _digits(d.name.split("_", 1)[0]))]
    if layout == "golang-migrate":
        ups = [p for p in folder.iterdir() if p.name.endswith(".up.sql")]
        return sorted(ups, key=lambda p: int(p.name.split("_", 1)[0]))
    if layout == "flyway":
        found = [p for p in folder.rglob("V*__*.sql")]
        return sorted(found, key=lambda p: tuple(int(n) for n in re.split(r"[._]", p.name[1:].split("__")[0])))
    raise ValueError(f"no file-by-file client for {layout}")


def _digits(text: str) -> int:
    return int(re.sub(r"\D", "", text) or 0)


def rollback_files(folder: Path, layout: str, applied: int | None = None) -> list[Path]:
    """The rollback files of the first ``applied`` changes of a diesel or golang-migrate folder, last
    change first (a change without one has nothing to run, as its tool says)."""
    found = []
    forward = forward_files(folder, layout)
    for path in reversed(forward[:applied] if applied is not None else forward):
        down = path.with_name("down.sql") if layout == "diesel" else \
            path.with_name(path.name[: -len(".up.sql")] + ".down.sql")
        if down.is_file():
            found.append(down)
    return found


def run_files(url: str, engine: str, folder: Path, layout: str, down: bool = False,
              applied: int | None = None) -> ClientRun:
    """Each forward (or, ``down``, rollback) file with the database's client, in order, stopping at the
    first failure. On PostgreSQL a file runs in one transaction (as diesel, golang-migrate and Flyway run
    it), or, when PostgreSQL refuses that (CREATE INDEX CONCURRENTLY...), again without one."""
    files = rollback_files(folder, layout, applied) if down else forward_files(folder, layout)
    run = ClientRun("psql -f" if engine == "postgresql" else "mariadb < file", total=len(files))
    started = time.perf_counter()
    for path in files:
        if engine == "postgresql":
            error = psql_file(url, path, single_transaction=True)
            if error and any(text in error for text in _NOT_IN_TRANSACTION):
                error = psql_file(url, path, single_transaction=False)
        else:
            error = mariadb_file(url, path)
        if error:
            run.error = f"{path.relative_to(folder)}: {error}"
            break
        run.applied += 1
    run.seconds = time.perf_counter() - started
    return run


# -- the layouts' own tools ---------------------------------------------------------------------


def tool_path(tools: Path, name: str) -> str | None:
    """dbmate and Liquibase from `npm install dbmate liquibase` in ``tools``; sqitch from PATH."""
    if name == "dbmate":
        found = tools / "node_modules" / ".bin" / "dbmate"
    elif name == "liquibase":
        found = tools / "node_modules" / "liquibase" / "dist" / "liquibase" / "liquibase"
    else:
        return shutil.which(name)
    return str(found) if found.exists() else None


def run_dbmate(tools: Path, url: str, engine: str, folder: Path, total: int) -> ClientRun:
    run = ClientRun("dbmate up", total=total)
    binary = tool_path(tools, "dbmate")
    if binary is None:
        run.error = "dbmate not installed (npm install dbmate)"
        return run
    parts = make_url(url)
    tool_url = (f"postgres://{parts.username}@{parts.host}:{parts.port}/{parts.database}?sslmode=disable"
                if engine == "postgresql" else f"mysql://{parts.username}@{parts.host}:{parts.port}/{parts.database}")
    started = time.perf_counter()
    done = subprocess.run([binary, "--url", tool_url, "--migrations-dir", str(folder), "--no-dump-schema", "up"],
                          capture_output=True, text=True)
    run.seconds = time.perf_counter() - started
    run.applied = len(re.findall(r"^Applying: ", done.stdout, re.M))
    if done.returncode != 0:
        run.applied = max(run.applied - 1, 0)  # the last "Applying" line is the one that failed
        run.error = _tail(done.stderr or done.stdout)
    return run


def run_liquibase(tools: Path, url: str, engine: str, changelog: Path, total: int) -> ClientRun:
    run = ClientRun("liquibase update", total=total)
    if tool_path(tools, "liquibase") is None:
        run.error = "Liquibase not installed (npm install liquibase)"
        return run
    started = time.perf_counter()
    done = _liquibase(tools, url, engine, changelog, ["update"])
    run.seconds = time.perf_counter() - started
    run.applied = _liquibase_executed(url)
    if done.returncode != 0:
        run.error = _tail(done.stderr or done.stdout)
    return run


def _liquibase(tools: Path, url: str, engine: str, changelog: Path, command: list[str]) -> Any:
    drivers = tools / "node_modules" / "liquibase" / "dist" / "drivers"
    parts = make_url(url)
    if engine == "postgresql":
        jdbc, jar = f"jdbc:postgresql://{parts.host}:{parts.port}/{parts.database}", "postgresql-42.4.2.jar"
    else:
        jdbc, jar = f"jdbc:mariadb://{parts.host}:{parts.port}/{parts.database}", "mariadb-java-client-2.5.3.jar"
    return subprocess.run([str(tool_path(tools, "liquibase")), f"--changelog-file={changelog.name}", f"--url={jdbc}",
                           f"--username={parts.username}", "--password=", f"--classpath={drivers / jar}",
                           "--show-banner=false", *command],
                          capture_output=True, text=True, cwd=changelog.parent,
                          env=dict(os.environ, JAVA_OPTS="-Xss4m"))


def _liquibase_executed(url: str) -> int:
    """Changesets of formatted SQL files Liquibase recorded as run (a root YAML's tagDatabase is none)."""
    import sqlalchemy as sa

    from dualpath.urls import parse_url

    engine = sa.create_engine(parse_url(url), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            for table in ("databasechangelog", "DATABASECHANGELOG"):  # MariaDB: names are case-sensitive
                try:
                    return int(conn.execute(sa.text(
                        f"SELECT count(*) FROM {table} WHERE exectype = 'EXECUTED' "
                        "AND lower(filename) LIKE '%.sql'")).scalar_one())
                except sa.exc.DBAPIError:
                    conn.rollback()
        return 0
    finally:
        engine.dispose()


# -- server-wide objects a folder creates ----------------------------------------------------------


def principals(url: str, engine: str) -> set[str]:
    """Roles (PostgreSQL) or users (MariaDB) on the server: a folder that creates one would meet it
    again on the next database, so each side of the comparison starts from the same server."""
    import sqlalchemy as sa

    from dualpath.urls import parse_url

    query = ("SELECT rolname FROM pg_roles" if engine == "postgresql"
             else "SELECT concat(quote(user), '@', quote(host)) FROM mysql.user")
    db = sa.create_engine(parse_url(url), poolclass=sa.pool.NullPool)
    with db.connect() as conn:
        found = {str(r[0]) for r in conn.execute(sa.text(query))}
    db.dispose()
    return found


def drop_principals(url: str, engine: str, keep: set[str], folder_text: str) -> list[str]:
    """Drop each role/user that is new since ``keep`` and named in the folder's files (the server is
    shared: a role someone else created meanwhile is not ours to drop); returns those dropped."""
    import sqlalchemy as sa

    from dualpath.urls import parse_url

    lowered = folder_text.lower()
    extra = sorted(n for n in principals(url, engine) - keep
                   if n.split("@", 1)[0].strip("'").lower() in lowered)
    db = sa.create_engine(parse_url(url), poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    with db.connect() as conn:
        for name in extra:
            try:
                if engine == "postgresql":
                    quoted = '"' + name.replace('"', '""') + '"'
                    conn.execute(sa.text(f"DROP OWNED BY {quoted}"))
                    conn.execute(sa.text(f"DROP ROLE {quoted}"))
                else:
                    user, host = name.split("@", 1)
                    conn.execute(sa.text(f"DROP USER {user}@{host}"))
            except sa.exc.DBAPIError:
                pass  # still owns something in another database: left as it is
    db.dispose()
    return extra


def rollback_with_tool(tools: Path, client: str, url: str, engine: str, where: Path, total: int) -> ClientRun:
    """The layout's own tool rolling back everything it applied: ``sqitch revert -y``, ``dbmate down``
    until nothing is left, ``liquibase rollback-count N``."""
    if client == "sqitch":
        run = ClientRun("sqitch revert", total=total)
        env = dict(os.environ, SQITCH_USER_CONFIG="/dev/null", SQITCH_FULLNAME="bench", SQITCH_EMAIL="bench@localhost")
        started = time.perf_counter()
        done = subprocess.run(["sqitch", "revert", "-y", sqitch_target(url, engine)], capture_output=True,
                              text=True, cwd=where, env=env)
        run.applied = len(re.findall(r"^  - .+ \.+ ok$", done.stdout, re.M))
        run.error = None if done.returncode == 0 else _tail(done.stderr or done.stdout)
    elif client == "dbmate":
        run = ClientRun("dbmate down", total=total)
        binary, parts = tool_path(tools, "dbmate"), make_url(url)
        tool_url = (f"postgres://{parts.username}@{parts.host}:{parts.port}/{parts.database}?sslmode=disable"
                    if engine == "postgresql" else
                    f"mysql://{parts.username}@{parts.host}:{parts.port}/{parts.database}")
        started = time.perf_counter()
        for _ in range(total):
            done = subprocess.run([str(binary), "--url", tool_url, "--migrations-dir", str(where),
                                   "--no-dump-schema", "down"], capture_output=True, text=True)
            if done.returncode != 0:
                run.error = _tail(done.stderr or done.stdout)
                break
            run.applied += 1
    else:
        run = ClientRun("liquibase rollback-count", total=total)
        started = time.perf_counter()
        done = _liquibase(tools, url, engine, where, ["rollback-count", f"--count={total}"])
        run.error = None if done.returncode == 0 else _tail(done.stderr or done.stdout)
        run.applied = total - _liquibase_executed(url) if run.error is None else 0
    run.seconds = time.perf_counter() - started
    return run


def sqitch_target(url: str, engine: str) -> str:
    parts = make_url(url)
    scheme = "pg" if engine == "postgresql" else "mysql"
    return f"db:{scheme}://{parts.username}@{parts.host}:{parts.port}/{parts.database}"


def run_sqitch(url: str, engine: str, project: Path, total: int, registry: str | None = None) -> ClientRun:
    """`sqitch deploy` from the project directory (where sqitch.conf is, as its users run it)."""
    run = ClientRun("sqitch deploy", total=total)
    if shutil.which("sqitch") is None:
        run.error = "sqitch not installed (apt-get install sqitch libdbd-pg-perl libdbd-mysql-perl)"
        return run
    # --mode change: a failing change is reverted alone (the default reverts everything deployed)
    args = ["sqitch", "deploy", "--no-verify", "--mode", "change", sqitch_target(url, engine)]
    if registry:
        args += ["--registry", registry]
    env = dict(os.environ, SQITCH_USER_CONFIG="/dev/null", SQITCH_FULLNAME="bench", SQITCH_EMAIL="bench@localhost")
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True, cwd=project, env=env)
    run.seconds = time.perf_counter() - started
    run.applied = len(re.findall(r"^  \+ .+ \.+ ok$", done.stdout, re.M))
    if done.returncode != 0:
        run.error = _tail(done.stderr or done.stdout)
    return run


def _version(args: list[str]) -> str:
    done = subprocess.run(args, capture_output=True, text=True)
    return (done.stdout or done.stderr).strip().splitlines()[0] if (done.stdout or done.stderr).strip() else "?"


def tool_versions(tools: Path) -> dict[str, str]:
    """The versions the history tables were captured with (cited by the adopt tests)."""
    found = {}
    for name, args in (("dbmate", ["--version"]), ("liquibase", ["--version"]), ("sqitch", ["--version"])):
        binary = tool_path(tools, name)
        if binary:
            text = _version([binary, *args]) if name != "liquibase" else _liquibase_version(binary)
            found[name] = text
    return found


def _liquibase_version(binary: str) -> str:
    done = subprocess.run([binary, "--version"], capture_output=True, text=True)
    match = re.search(r"Liquibase Version: (\S+)", done.stdout + done.stderr)
    return f"Liquibase {match.group(1)}" if match else "Liquibase ?"


# -- what a tool left: its history tables -------------------------------------------------------


def capture_history(url: str, engine: str, tables: list[str]) -> dict[str, Any]:
    """The DDL and rows of each history table, as the server reports them (pg_dump -s / SHOW CREATE TABLE)."""
    import sqlalchemy as sa

    from dualpath.urls import parse_url

    found: dict[str, Any] = {}
    engine_ = sa.create_engine(parse_url(url), poolclass=sa.pool.NullPool)
    with engine_.connect() as conn:
        for table in tables:
            try:
                rows = [list(map(_plain, r)) for r in conn.execute(sa.text(f"SELECT * FROM {table}"))]
            except sa.exc.DBAPIError:
                continue
            ddl = _ddl(conn, url, engine, table)
            found[table] = {"ddl": ddl, "rows": rows}
    engine_.dispose()
    return found


def _ddl(conn: Any, url: str, engine: str, table: str) -> str:
    import sqlalchemy as sa

    if engine != "postgresql":
        return str(conn.execute(sa.text(f"SHOW CREATE TABLE {table}")).one()[1])
    done = subprocess.run(["pg_dump", "-s", "-t", table, "-d", url], capture_output=True, text=True)
    keep = [line for line in done.stdout.splitlines()
            if line and not line.startswith(("--", "SET ", "SELECT pg_catalog", "\\"))]
    return "\n".join(keep)


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, (bool, int, float, str)) else str(value)


# -- verify's findings, checked with the client ------------------------------------------------


def confirm_with_client(url: str, engine: str, folder: Path, layout: str, versions: list[str],
                        fingerprint: Any) -> dict[str, str]:
    """For each failed version: the client applies every forward file up to it, then its up, its down
    and its up again, and the schemas are compared as verify compares them. "confirmed" when the client
    sees a difference (or a failing file) too, "not seen by the client" otherwise: a false alarm."""
    files = forward_files(folder, layout)
    keys = [_digits(p.parent.name.split("_", 1)[0] if layout == "diesel" else p.name.split("_", 1)[0])
            for p in files]
    found: dict[str, str] = {}
    done, broken = 0, None
    for version in sorted(versions, key=_digits):
        if _digits(version) not in keys:
            continue
        index = keys.index(_digits(version))
        for path in files[done:index]:
            if _client_file(url, engine, path) and broken is None:
                broken = path.name
        if broken is not None:  # the client's database is not the state verify started from
            found[version] = f"not checked: the client cannot run {broken}"
            continue
        before = fingerprint(url)
        error = _client_file(url, engine, files[index])
        first = fingerprint(url)
        down = files[index].with_name("down.sql") if layout == "diesel" else \
            files[index].with_name(files[index].name[: -len(".up.sql")] + ".down.sql")
        error = error or (_client_file(url, engine, down) if down.is_file() else None)
        restored = fingerprint(url)
        error = error or _client_file(url, engine, files[index])
        again = fingerprint(url)
        differs = error is not None or restored != before or again != first
        found[version] = "confirmed" if differs else "not seen by the client"
        done = index + 1
    return found


def _client_file(url: str, engine: str, path: Path) -> str | None:
    if engine != "postgresql":
        return mariadb_file(url, path)
    error = psql_file(url, path, single_transaction=True)
    if error and any(text in error for text in _NOT_IN_TRANSACTION):
        error = psql_file(url, path, single_transaction=False)
    return error
