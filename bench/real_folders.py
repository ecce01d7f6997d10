"""Benchmark: public projects' own migration folders, as they are, through dualpath and through their
database's own client, side by side.

    .venv/bin/python bench/real_folders.py [--folders /work/scratch/real/folders] [--mirrors /work/.mirror]
        [--tools /work/scratch/real/tools] [--only lemmy,flipt-pg] [--quick] [--write-docs]

For each project (repository, commit, path, layout, engine; listed in PROJECTS and in docs/real-folders.md
so anyone can fetch the same files) the folder is taken from ``--folders/<key>/`` (exported with
``git archive <commit> <path> | tar -x``; when missing it is exported from a git mirror at
``--mirrors/<owner>+<name>/repo`` if there is one). No file is ever edited. Then, on fresh databases:

- dualpath: ``detect``, ``status``, ``apply``, ``rollback --all``, ``apply`` again, ``verify`` (shadow
  round trip of every change, on an empty target) and, where changes lack a rollback,
  ``draft-rollbacks --prove`` (drafts proved on a shadow, never written into the folder);
- the client: every forward file with ``psql -f`` / ``mariadb < file`` in the tool's order (diesel,
  golang-migrate, Flyway), or the layout's own tool (``dbmate up``, ``liquibase update``,
  ``sqitch deploy``) where a plain client cannot read the files;
- the two schemas compared by dualpath's fingerprint (the tools' history tables left out);
- where the layout's own tool applied the folder: ``dualpath status`` and ``dualpath adopt`` on the
  database that tool wrote, and the tool's history table (DDL and rows) kept in the results for the
  adopt tests (tests/integration/test_adopt_real_tools.py).

dualpath reads with ``[rollback] missing = "allow"``: a change without a rollback is rolled back as its
tool rolls it back (a no-op), so ``rollback --all`` always runs; what it leaves behind is counted.
Writes bench/results/real_folders.json; ``--write-docs`` puts the table into docs/real-folders.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from peers import RESULTS, ROOT, VENV_BIN, summary_row, write_result  # noqa: E402
from real_clients import (  # noqa: E402
    ClientRun,
    capture_history,
    confirm_with_client,
    database_url,
    drop_principals,
    principals,
    rollback_with_tool,
    run_dbmate,
    run_files,
    run_liquibase,
    run_sqitch,
    tool_versions,
)

OUT = RESULTS / "real_folders.json"
DOCS = ROOT / "docs" / "real-folders.md"
START, END = "<!-- table:start -->", "<!-- table:end -->"
HISTORY_TABLES = {"dbmate": ["schema_migrations"], "liquibase": ["databasechangelog", "databasechangeloglock"],
                  "sqitch": ["sqitch.changes", "sqitch.tags", "sqitch.dependencies", "sqitch.events",
                             "sqitch.projects", "sqitch.releases"]}


@dataclass(frozen=True)
class Project:
    key: str
    repo: str
    commit: str
    export: tuple[str, ...]  # paths given to git archive
    folder: str  # the migrations folder, inside the export
    layout: str
    engine: str  # postgresql | mariadb
    client: str = "files"  # files | dbmate | liquibase | sqitch
    tool_dir: str = ""  # where the tool runs (sqitch project, Liquibase root changelog's folder)
    changelog: str = ""  # Liquibase: the root changelog the project runs, inside tool_dir
    # files its deployment provides outside the folder (Docker secrets the scripts `cat`): written with
    # placeholder values for the run when absent, removed after it (see provide_files)
    provided: tuple[str, ...] = ()
    # what the project's database image has before any migration runs (maevsi's is PostGIS's: its tables
    # use `geography`, and no change creates the extension), run on every fresh database of both sides
    setup: tuple[str, ...] = ()

    @property
    def source(self) -> str:
        return f"{self.repo}@{self.commit[:10]}:{self.folder}"


PROJECTS = (
    Project("lemmy", "LemmyNet/lemmy", "439734dd638a2c06a2f907beab7dcf4646e88f86", ("migrations",),
            "migrations", "diesel", "postgresql"),
    Project("crates-io", "rust-lang/crates.io", "57fa000662f511321daa61e6769f190ea0e80771", ("migrations",),
            "migrations", "diesel", "postgresql"),
    Project("vaultwarden-pg", "dani-garcia/vaultwarden", "46d71107f5094460dd5ecbe1dbac6e6c71e5189a",
            ("migrations/postgresql",), "migrations/postgresql", "diesel", "postgresql"),
    Project("vaultwarden-mysql", "dani-garcia/vaultwarden", "46d71107f5094460dd5ecbe1dbac6e6c71e5189a",
            ("migrations/mysql",), "migrations/mysql", "diesel", "mariadb"),
    Project("openmeter", "openmeterio/openmeter", "7e57a394a0283fb210a644685ad1d257f6d5c85c",
            ("tools/migrate/migrations",), "tools/migrate/migrations", "golang-migrate", "postgresql"),
    Project("flipt-pg", "flipt-io/flipt", "8a86e9e2a6d06305e8b8865b27781db1f455a522",
            ("config/migrations/postgres",), "config/migrations/postgres", "golang-migrate", "postgresql"),
    Project("flipt-mysql", "flipt-io/flipt", "8a86e9e2a6d06305e8b8865b27781db1f455a522",
            ("config/migrations/mysql",), "config/migrations/mysql", "golang-migrate", "mariadb"),
    Project("matterfoss-pg", "cjdelisle/Matterfoss", "0a5f3ec1a35537cc808eb773cfb87779b3711307",
            ("db/migrations/postgres",), "db/migrations/postgres", "golang-migrate", "postgresql"),
    Project("matterfoss-mysql", "cjdelisle/Matterfoss", "0a5f3ec1a35537cc808eb773cfb87779b3711307",
            ("db/migrations/mysql",), "db/migrations/mysql", "golang-migrate", "mariadb"),
    Project("liwords", "woogles-io/liwords", "b790d24693831a2e0b0ee19f708100ab094c5332", ("db/migrations",),
            "db/migrations", "golang-migrate", "postgresql"),
    Project("takobox", "myuwi/takobox", "c0a6af3acab85fc8a1712cd4ab974502c6b84ec2",
            ("apps/backend/db/migrations",), "apps/backend/db/migrations", "dbmate", "postgresql", "dbmate"),
    Project("hacker-backend", "jseongnam/hacker-backend", "a029e87236a9e3afd29594e801baadfacaad0cf3",
            ("db/migrations",), "db/migrations", "dbmate", "mariadb", "dbmate"),
    Project("peerdb", "PeerDB-io/peerdb", "6b52fb6cd6db6226c2678e7a522799b317d9ca14", ("nexus/catalog/migrations",),
            "nexus/catalog/migrations", "flyway", "postgresql"),
    Project("kestra-pg", "kestra-io/kestra", "58c1ca2d0589c888328bacc3ee65e65dc4ba0a6a",
            ("jdbc-postgres/src/main/resources/migrations/postgres",),
            "jdbc-postgres/src/main/resources/migrations/postgres", "flyway", "postgresql"),
    Project("kestra-mysql", "kestra-io/kestra", "58c1ca2d0589c888328bacc3ee65e65dc4ba0a6a",
            ("jdbc-mysql/src/main/resources/migrations/mysql",), "jdbc-mysql/src/main/resources/migrations/mysql",
            "flyway", "mariadb"),
    Project("bagelstore", "liquibase-examples/gha-cd-bagelstore-demo", "018d7b4149d39f8c6225ff5bec3a63275e1facd1",
            ("db/changelog/changelog-master.yaml", "db/changelog/changesets"), "db/changelog/changesets",
            "liquibase", "postgresql", "liquibase", "db/changelog", "changelog-master.yaml"),
    Project("liquibase-percona", "liquibase/liquibase-percona", "17de648688fed768a53d1927360638bc7a07b8a0",
            ("src/test/resources/liquibase/ext/percona/changelog/test-changelog.sql",),
            "src/test/resources/liquibase/ext/percona/changelog", "liquibase", "mariadb", "liquibase",
            "src/test/resources/liquibase/ext/percona/changelog", "test-changelog.sql"),
    Project("sqitch-intro", "sqitchers/sqitch-intro", "140b3a56bad10ebf11b485590d280f2d88ef537e",
            ("sqitch.conf", "sqitch.plan", "deploy", "revert", "verify"), ".", "sqitch", "postgresql", "sqitch", "."),
    Project("registry", "Tamarou/Registry", "6cf43ab0c5944467701ad10cef52440a1be662bb",
            ("sqitch.conf", "sql", "templates/registry"), "sql", "sqitch", "postgresql", "sqitch", "."),
    Project("maevsi", "maevsi/sqitch", "4002054541273010481cbe4c622ff4edd3b29595", ("src",), "src", "sqitch",
            "postgresql", "sqitch", "src",
            provided=tuple(f"/run/secrets/postgres-role-service-{role}-{what}"
                           for role in ("grafana", "postgraphile", "reccoom", "vibetype", "zammad")
                           for what in ("username", "password")),
            setup=("CREATE EXTENSION IF NOT EXISTS postgis",)),
    Project("sqitch-mysql-intro", "sqitchers/sqitch-mysql-intro", "9931d11b25b3c1f22233c194e27fe7cbe0e6375f",
            ("sqitch.conf", "sqitch.plan", "deploy", "revert", "verify"), ".", "sqitch", "mariadb", "sqitch", "."),
    Project("opinion-sqitch-mysql", "inqwise-opinion/opinion-sqitch-mysql", "68f5f7e9f6a13ebbac5496736798dc568eefae86",
            ("sqitch.conf", "sqitch.plan", "deploy", "revert", "verify"), ".", "sqitch", "mariadb", "sqitch", "."),
)
QUICK = ("flipt-pg", "takobox", "bagelstore", "sqitch-intro", "hacker-backend")


# -- folders ----------------------------------------------------------------------------------


def ensure_folder(project: Project, root: Path, mirrors: Path) -> Path | None:
    """The project's export under ``root``; exported from a local git mirror when missing."""
    base = root / project.key
    if not (base / project.folder).is_dir():
        mirror = mirrors / project.repo.replace("/", "+") / "repo"
        if not mirror.is_dir():
            return None
        base.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", f"--git-dir={mirror}", "archive", project.commit, *project.export],
                                 capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(base)], input=archive.stdout, check=True)
    return base


def provide_files(paths: tuple[str, ...]) -> list[Path]:
    """The deployment's secrets a project's scripts read (maevsi: `cat /run/secrets/...-username`), with
    placeholder values where none exist: a user name from the file's name (``...-grafana-username`` ->
    ``grafana``), a password ``bench-only``. Returns the files written, to remove after the run."""
    written: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.exists():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        found = re.search(r"-([a-z]+)-username$", path.name)
        path.write_text((found.group(1) if found else "bench-only") + "\n")
        written.append(path)
    return written


def folder_digest(folder: Path) -> str:
    """sha256 over every file's path and bytes: the same before and after, or a command edited the folder."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


# -- databases --------------------------------------------------------------------------------


def fresh_database(engine: str, name: str, setup: tuple[str, ...] = ()) -> str:
    from dualpath.engines import open_engine
    from dualpath.engines.verbatim import run_verbatim

    server = open_engine(database_url(engine, "postgres" if engine == "postgresql" else "mysql"))
    server.drop_database(name)
    server.create_database(name)
    if setup:
        database = open_engine(database_url(engine, name))
        with database.connect() as conn:
            for statement in setup:
                run_verbatim(conn, statement)
            conn.commit()
    return database_url(engine, name)


def drop_database(engine: str, name: str) -> None:
    from dualpath.engines import open_engine

    open_engine(database_url(engine, "postgres" if engine == "postgresql" else "mysql")).drop_database(name)


def fingerprint_of(url: str) -> Any:
    from dualpath.engines import open_engine

    engine = open_engine(url)
    with engine.connect() as conn:
        return engine.fingerprint(conn)


def object_count(url: str) -> int:
    return sum(len(v) for v in fingerprint_of(url).objects.values())


# -- dualpath ---------------------------------------------------------------------------------


@dataclass
class Step:
    exit: int
    seconds: float
    output: str  # stdout and stderr
    stdout: str = ""


def dualpath(config: Path, *args: str, cwd: Path | None = None) -> Step:
    started = time.perf_counter()
    env = dict(os.environ, PYTHONPATH=os.environ.get("BENCH_CODE", str(ROOT)))
    done = subprocess.run([str(VENV_BIN / "dualpath"), *args, "--config", str(config)], capture_output=True,
                          text=True, cwd=cwd, env=env)
    return Step(done.returncode, round(time.perf_counter() - started, 2), done.stdout + done.stderr, done.stdout)


def applied_count(config: Path, url: str, folder: Path) -> int | None:
    step = dualpath(config, "status", "--url", url, "--migrations", str(folder), "--format", "json")
    if step.exit != 0:
        return None
    return sum(1 for s in json.loads(step.stdout) if s["state"] == "applied")


def first_error(step: Step) -> str | None:
    if step.exit == 0:
        return None
    lines = [line.strip() for line in step.output.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith(("error", "refused", "failed", "internal error"))]
    return (errors[0] if errors else lines[-1] if lines else f"exit {step.exit}")[:300]


def verify_report(step: Step) -> dict[str, Any]:
    """verify --format json: which changes failed their round trip, named."""
    try:
        report = json.loads(step.stdout)
    except json.JSONDecodeError:
        return {"exit": step.exit, "error": first_error(step), "failures": [], "verified": 0}
    failed = [c for c in report["changes"] if c.get("verified") and not c.get("ok")]
    return {"exit": step.exit, "error": None, "verified": sum(1 for c in report["changes"] if c.get("verified")),
            "failures": [{"version": c["version"], "description": c["description"],
                          "problems": c["problems"][:3]} for c in failed],
            "not_verified": sum(1 for c in report["changes"] if not c.get("verified"))}


def draft_report(step: Step) -> dict[str, int]:
    text = step.output
    return {"exit": step.exit, "proved": len(re.findall(r"; proved", text)),
            "failed": len(re.findall(r"; failed", text)), "no_draft": len(re.findall(r": no draft: ", text))}


# -- one project --------------------------------------------------------------------------------


def run_project(project: Project, root: Path, mirrors: Path, tools: Path, work: Path) -> dict[str, Any]:
    row: dict[str, Any] = {"project": asdict(project), "source": project.source}
    base = ensure_folder(project, root, mirrors)
    if base is None:
        row["skipped"] = f"not fetched: export {project.repo}@{project.commit} {project.folder} under {root}"
        return row
    folder = base / project.folder
    before = folder_digest(base)
    config = work / f"{project.key}.toml"
    config.write_text('[rollback]\nmissing = "allow"\n')
    stem = "dp_real_" + re.sub(r"\W", "_", project.key)
    names = {side: f"{stem}_{side}" for side in ("dp", "cl", "vf")}
    server = database_url(project.engine, "postgres" if project.engine == "postgresql" else "mysql")
    keep = principals(server, project.engine)
    text = "\n".join(p.read_text(errors="replace") for p in base.rglob("*.sql"))
    tidy = lambda: drop_principals(server, project.engine, keep, text)  # noqa: E731
    provided = provide_files(project.provided)
    try:
        row.update(_run_dualpath(project, config, folder, names, tidy))
        row["client"] = _run_client(project, base, folder, tools, database_url(project.engine, names["cl"]),
                                    row.get("changes") or 0).as_dict()
        row.update(_compare(project, config, folder, names, row))
        row["client_rollback"] = _client_rollback(project, base, folder, tools, names["cl"], row["client"]["applied"])
    finally:
        for name in names.values():
            drop_database(project.engine, name)
        _drop_sqitch_registry(project)
        row["server_objects_dropped"] = tidy()
        for path in provided:
            path.unlink()
    row["folder_unchanged"] = folder_digest(base) == before
    return row


def _run_dualpath(project: Project, config: Path, folder: Path, names: dict[str, str],
                  tidy: Any) -> dict[str, Any]:
    url = fresh_database(project.engine, names["dp"], project.setup)
    target = ("--url", url, "--migrations", str(folder))
    found: dict[str, Any] = {}
    detect = dualpath(config, "detect", "--migrations", str(folder))
    match = re.search(r": (\S+), (\d+) change\(s\)", detect.output)
    found["detect"] = {"exit": detect.exit, "seconds": detect.seconds, "error": first_error(detect),
                       "layout": match.group(1) if match else None}
    found["changes"] = int(match.group(2)) if match else None
    found["without_rollback"] = int(m.group(1)) if (m := re.search(r"(\d+) change\(s\) without a way back",
                                                                     detect.output)) else 0
    status = dualpath(config, "status", *target, "--format", "json")
    found["status"] = {"exit": status.exit, "seconds": status.seconds, "error": first_error(status)}
    apply = dualpath(config, "apply", *target)
    found["apply"] = {"exit": apply.exit, "seconds": apply.seconds, "error": first_error(apply),
                      "applied": applied_count(config, url, folder)}
    first = fingerprint_of(url)
    rollback = dualpath(config, "rollback", "--all", *target)
    found["rollback"] = {"exit": rollback.exit, "seconds": rollback.seconds, "error": first_error(rollback),
                         "left_applied": applied_count(config, url, folder), "objects_left": object_count(url)}
    again = dualpath(config, "apply", *target)
    found["apply_again"] = {"exit": again.exit, "seconds": again.seconds, "error": first_error(again),
                            "applied": applied_count(config, url, folder), "same_schema": fingerprint_of(url) == first}
    found["fingerprint"] = first
    dualpath(config, "rollback", "--all", *target)  # leave the server as found (roles), then tidy the rest
    drop_database(project.engine, names["dp"])
    found["server_objects_left"] = tidy()
    empty = fresh_database(project.engine, names["vf"], project.setup)
    verify = dualpath(config, "verify", "--url", empty, "--migrations", str(folder), "--format", "json")
    found["verify"] = {**verify_report(verify), "seconds": verify.seconds}
    tidy()
    failed = [f["version"] for f in found["verify"]["failures"]]
    if failed and project.client == "files":  # each finding checked with psql / mariadb: real or a false alarm
        check = fresh_database(project.engine, names["dp"], project.setup)
        seen = confirm_with_client(check, project.engine, folder, project.layout, failed, fingerprint_of)
        for failure in found["verify"]["failures"]:
            failure["client"] = seen.get(failure["version"], "not checked")
        drop_database(project.engine, names["dp"])
        tidy()
    if found["without_rollback"]:
        draft = dualpath(config, "draft-rollbacks", "--prove", "--url", empty, "--migrations", str(folder))
        found["drafts"] = {**draft_report(draft), "seconds": draft.seconds}
        tidy()
    return found


def _run_client(project: Project, base: Path, folder: Path, tools: Path, url: str, total: int) -> ClientRun:
    fresh_database(project.engine, url.rsplit("/", 1)[1], project.setup)
    if project.client == "files":
        return run_files(url, project.engine, folder, project.layout)
    if project.client == "dbmate":
        return run_dbmate(tools, url, project.engine, folder, total)
    if project.client == "liquibase":
        return run_liquibase(tools, url, project.engine, base / project.tool_dir / project.changelog, total)
    # MariaDB: sqitch keeps its registry in a database of its own, "sqitch" (dropped afterwards)
    return run_sqitch(url, project.engine, base / project.tool_dir, total)


def _compare(project: Project, config: Path, folder: Path, names: dict[str, str], row: dict[str, Any]) -> dict:
    theirs = database_url(project.engine, names["cl"])
    mine, other = row.pop("fingerprint"), fingerprint_of(theirs)
    found: dict[str, Any] = {"schema_equal": mine == other, "schema_diff": mine.diff(other)[:8],
                             "objects": sum(len(v) for v in mine.objects.values())}
    if project.client in ("dbmate", "liquibase", "sqitch"):
        found["tool"] = _take_over(project, config, folder, theirs, row)
    return found


def _take_over(project: Project, config: Path, folder: Path, url: str, row: dict[str, Any]) -> dict[str, Any]:
    """On the database the layout's own tool wrote: does dualpath read the folder as the tool did, and
    does adopt take over the tool's history?"""
    target = ("--url", url, "--migrations", str(folder))
    history = capture_history(url, project.engine, HISTORY_TABLES[project.client])
    before = dualpath(config, "status", *target, "--format", "json")
    adopt = dualpath(config, "adopt", *target)
    return {"status_before_adopt": {"exit": before.exit, "error": first_error(before)},
            "adopt": {"exit": adopt.exit, "output": adopt.output.strip()[-600:]},
            "applied_after_adopt": applied_count(config, url, folder),
            "tool_applied": row.get("client", {}).get("applied"),
            # what the tool wrote, counted: its rows carry the projects' planners' names (kept out of git)
            "history_rows": {table: len(found["rows"]) for table, found in history.items()}}


def _client_rollback(project: Project, base: Path, folder: Path, tools: Path, name: str, applied: int
                     ) -> dict[str, Any] | None:
    """The other side rolling back everything it applied: the rollback files with the client (last first),
    or the layout's own tool; None where the folder has no rollbacks to run (Flyway without undo)."""
    url = database_url(project.engine, name)
    if project.client == "files":
        if project.layout == "flyway":
            return None
        run = run_files(url, project.engine, folder, project.layout, down=True, applied=applied)
    else:
        where = {"dbmate": folder, "liquibase": base / project.tool_dir / project.changelog,
                 "sqitch": base / project.tool_dir}[project.client]
        run = rollback_with_tool(tools, project.client, url, project.engine, where, applied)
    return {**run.as_dict(), "objects_left": object_count(url)}


def _drop_sqitch_registry(project: Project) -> None:
    if project.client == "sqitch" and project.engine != "postgresql":
        drop_database(project.engine, "sqitch")


# -- report ------------------------------------------------------------------------------------


COLUMNS = ("project", "layout / engine", "changes", "applied: dualpath / client", "rollback --all: dualpath",
           "rollback: client", "verify: failed of verified", "drafts (missing rollbacks)", "schema equal",
           "apply s: dualpath / client")


def _rollback_text(exit_code: int, left: int | None, objects: int, error: str | None) -> str:
    if exit_code != 0:
        stopped = re.search(r"version (\S+) failed", error or "")
        return f"stopped at {stopped.group(1)}" if stopped else f"exit {exit_code}"
    return f"ok, {objects} objects left" + (f", {left} applied" if left else "")


def table_rows(results: list[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for r in results:
        p = r["project"]
        if "skipped" in r:
            rows.append([p["key"], f"{p['layout']} / {p['engine']}", "-", "-", "-", "-", "-", "-", "-", r["skipped"]])
            continue
        apply, client, back = r["apply"], r["client"], r["rollback"]
        theirs = r.get("client_rollback")
        their_back = "-" if theirs is None else (
            f"{theirs['client']}: " + (f"ok, {theirs['objects_left']} objects left" if not theirs["error"]
                                       else f"stopped after {theirs['applied']} of {theirs['total']}"))
        verify = r["verify"]
        failures = (f"{len(verify['failures'])} of {verify['verified']}" if verify.get("error") is None
                    else f"refused (exit {verify['exit']})")
        seen = [str(f.get("client")) for f in verify.get("failures", []) if f.get("client")]
        if seen:
            parts = [f"{seen.count('confirmed')} confirmed by the client"]
            if false := seen.count("not seen by the client"):
                parts.append(f"{false} not seen by it")
            if unchecked := sum(1 for s in seen if s.startswith("not checked")):
                parts.append(f"{unchecked} not checkable")
            failures += f" ({', '.join(parts)})"
        drafts = r.get("drafts")
        drafted = "-" if not drafts else f"{drafts['proved']} proved, {drafts['failed']} failed" + (
            f", {drafts['no_draft']} nothing to undo" if drafts["no_draft"] else "")
        applied = f"{apply['applied'] if apply['applied'] is not None else 0}" + (
            "" if apply["exit"] == 0 else " (stopped)")
        client_text = f"{client['applied']} ({client['client']}{', stopped' if client['error'] else ''})"
        rows.append([p["key"], f"{p['layout']} / {p['engine']}", str(r["changes"]), f"{applied} / {client_text}",
                     _rollback_text(back["exit"], back["left_applied"], back["objects_left"], back["error"]),
                     their_back, failures, drafted, _schema_text(r),
                     f"{apply['seconds']} / {round(client['seconds'], 2)}"])
    return rows


def _comparable(r: dict[str, Any]) -> bool:
    """Did both sides apply the same changes? Else their schemas differ by what one of them could not run."""
    return (r["apply"]["applied"] or 0) == r["client"]["applied"]


def _schema_text(r: dict[str, Any]) -> str:
    if r.get("schema_equal"):
        return "yes"
    if not _comparable(r):
        return f"not comparable ({r['apply']['applied'] or 0} vs {r['client']['applied']} applied)"
    return "**no**"


def markdown(results: list[dict[str, Any]]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + " --- |" * len(COLUMNS)]
    lines += ["| " + " | ".join(c.replace("|", "/") for c in row) + " |" for row in table_rows(results)]
    lines += ["", "Sources (fetch these to reproduce):", ""]
    lines += [f"- `{r['project']['key']}`: {r['source']}" for r in results]
    notes = _notes(results)
    if notes:
        lines += ["", "Details:", "", *notes]
    return "\n".join(lines)


def _notes(results: list[dict[str, Any]]) -> list[str]:
    notes = []
    for r in results:
        if "skipped" in r:
            continue
        key = r["project"]["key"]
        for name in ("apply", "rollback", "apply_again"):
            if r[name].get("error"):
                notes.append(f"- `{key}` {name}: {r[name]['error']}")
        for failure in r["verify"].get("failures", []):
            problems = "; ".join(failure["problems"])[:240]
            checked = f" ({failure['client']})" if failure.get("client") else ""
            notes.append(f"- `{key}` verify{checked}: {failure['version']} {failure['description']}: {problems}")
        if r["client"]["error"]:
            notes.append(f"- `{key}` {r['client']['client']} stopped: {r['client']['error'][:300]}")
        if not r.get("schema_equal") and _comparable(r):
            notes.append(f"- `{key}` schema differs: {'; '.join(r.get('schema_diff', []))[:400]}")
        if tool := r.get("tool"):
            notes.append(f"- `{key}` adopt after {r['client']['client']}: exit {tool['adopt']['exit']}, "
                         f"{tool['applied_after_adopt']} applied after adopt (tool applied {tool['tool_applied']})")
        if not r.get("folder_unchanged", True):
            notes.append(f"- `{key}`: the folder CHANGED during the run")
    return notes


def print_table(results: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="real folders: dualpath and the database's own client")
    for column in COLUMNS:
        table.add_column(column, overflow="fold")
    for row in table_rows(results):
        table.add_row(*row)
    Console(width=220).print(table)


def summary(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ran = [r for r in results if "skipped" not in r]
    reached = [r for r in ran if (r["apply"]["applied"] or 0) >= r["client"]["applied"]]
    compared = [r for r in ran if r.get("schema_equal") or _comparable(r)]
    equal = [r for r in compared if r.get("schema_equal")]
    rolled = [r for r in ran if r["rollback"]["exit"] == 0]
    return [summary_row("real_folders", "apply reaches at least as far as the client", f"{len(reached)} of {len(ran)}",
                        "psql / mariadb / dbmate / liquibase / sqitch", None, "all", len(reached) == len(ran)),
            summary_row("real_folders", "schema equal to the client's (where both applied the same changes)",
                        f"{len(equal)} of {len(compared)}", "-", None, "all", len(equal) == len(compared)),
            summary_row("real_folders", "rollback --all runs", f"{len(rolled)} of {len(ran)}", "-", None, "all",
                        len(rolled) == len(ran))]


def write_docs(results: list[dict[str, Any]], stamp: str, load: float | None = None) -> None:
    text = DOCS.read_text()
    if START not in text or END not in text:
        print(f"{DOCS.relative_to(ROOT)} has no {START} ... {END} markers: not updated", file=sys.stderr)
        return
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    load = os.getloadavg()[0] if load is None else load
    note = (f"Generated {stamp} by `bench/real_folders.py` (load {load:.1f} on {os.cpu_count()} CPUs: times "
            "are from a busy machine)." if load > (os.cpu_count() or 1) else
            f"Generated {stamp} by `bench/real_folders.py` (load {load:.1f} on {os.cpu_count()} CPUs).")
    DOCS.write_text(f"{head}{START}\n{note}{runs_note(results)}\n\n{markdown(results)}\n{END}{tail}")
    print(f"updated {DOCS.relative_to(ROOT)}")


def runs_note(results: list[dict[str, Any]]) -> str:
    """Where rows come from more than one run (``--merge``): which ran when (each row's ``ran_at``)."""
    runs: dict[str, list[str]] = {}
    for row in results:
        runs.setdefault(str(row.get("ran_at", "?"))[:16], []).append(row["project"]["key"])
    if len(runs) < 2:
        return ""
    parts = [f"{', '.join(keys)} at {when.replace('T', ' ')} UTC" for when, keys in sorted(runs.items())]
    return " Rows come from more than one run (`--merge`): " + "; ".join(parts) + "."


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folders", type=Path, default=Path("/work/scratch/real/folders"),
                        help="where the projects' folders are exported (one directory per project key)")
    parser.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"),
                        help="git mirrors (<owner>+<name>/repo) to export missing folders from")
    parser.add_argument("--tools", type=Path, default=Path("/work/scratch/real/tools"),
                        help="where `npm install dbmate liquibase` was run")
    parser.add_argument("--only", help="comma-separated project keys")
    parser.add_argument("--quick", action="store_true", help=f"only the small ones: {', '.join(QUICK)}")
    parser.add_argument("--write-docs", action="store_true", help="put the table into docs/real-folders.md")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--merge", action="store_true",
                        help="keep the other projects' results already in --out (run a few again, one table)")
    parser.add_argument("--table-only", action="store_true",
                        help="run nothing: print (and with --write-docs, write) the table of the results in --out")
    args = parser.parse_args()
    keys = args.only.split(",") if args.only else QUICK if args.quick else [p.key for p in PROJECTS]
    unknown = set(keys) - {p.key for p in PROJECTS}
    if unknown:
        print(f"unknown project(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    if args.table_only:
        saved = json.loads(args.out.read_text())
        print_table(saved["results"])
        if args.write_docs:
            write_docs(saved["results"], saved["generated_at"], saved.get("load_average_1m"))
        return 0
    results = []
    started = time.time()
    ran_at = datetime.now(UTC).isoformat(timespec="seconds")
    with tempfile.TemporaryDirectory(prefix="dp_real_") as tmp:
        for project in (p for p in PROJECTS if p.key in keys):
            print(f"=== {project.key} ({project.source})", flush=True)
            try:
                results.append({**run_project(project, args.folders, args.mirrors, args.tools, Path(tmp)),
                                "ran_at": ran_at})
            except Exception as exc:  # one project's surprise must not lose the others' results
                results.append({"project": asdict(project), "source": project.source,
                                "skipped": f"bench error: {type(exc).__name__}: {exc}"[:300]})
    if args.merge and args.out.is_file():
        fresh = {r["project"]["key"]: r for r in results}
        before = json.loads(args.out.read_text())
        kept = {r["project"]["key"]: {"ran_at": before.get("generated_at"), **r} for r in before.get("results", [])}
        kept.update(fresh)
        results = [kept[p.key] for p in PROJECTS if p.key in kept]
    print_table(results)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    data = {"generated_at": stamp, "machine": platform.platform(), "load_average_1m": round(os.getloadavg()[0], 2),
            "quick": args.quick, "only": args.only, "took_s": round(time.time() - started),
            "tool_versions": tool_versions(args.tools), "results": results, "summary": summary(results)}
    write_result(args.out, data)
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    if args.write_docs:
        write_docs(results, stamp, data["load_average_1m"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
