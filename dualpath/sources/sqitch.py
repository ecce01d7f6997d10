"""sqitch: ``sqitch.plan`` orders the changes; ``deploy/``, ``revert/`` and ``verify/`` hold the SQL."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from dualpath.changes import ROLLBACK_MARK, Change, feed_checksum
from dualpath.errors import InputError
from dualpath.sources import psql
from dualpath.sources.common import (
    Part,
    Reader,
    build_change,
    drop_transaction_control,
    note,
    present,
    read_script,
    read_text,
    require_rollback,
    require_statements,
    split_part,
)
from dualpath.sources.files import check_path, walk_files
from dualpath.sources.lazy import LAZY_BYTES
from dualpath.sql.mysql_client import as_client_sends

NAME = "sqitch"
PLAN = "sqitch.plan"
_PLANNER = r"(?P<date>\d{4}-\d\d-\d\dT\S+)\s+(?P<planner>[^<]*<[^>]*>)\s*(?:#\s?(?P<note>.*))?$"
_CHANGE = re.compile(r"^(?P<op>[+-])?(?P<name>[^\s\[@#%]+)(?:\s+\[(?P<deps>[^\]]*)\])?\s+" + _PLANNER)
_TAG = re.compile(r"^@(?P<tag>\S+)\s+" + _PLANNER)
_PLAN_FORM = "name [dependencies] 2024-01-31T12:00:00Z Your Name <you@example.com> # note"


@dataclass
class PlanEntry:
    """A change line of the plan, with the tags that follow it before the next change."""

    name: str
    line: int
    requires: list[str]
    conflicts: list[str]
    note: str
    tags: list[str] = field(default_factory=list)
    script: str = ""  # file stem: the name, or name@tag for a reworked change's older copy


def find(folder: Path) -> list[Path]:
    plan = folder / PLAN
    return [plan] if present(plan) else []


def read(folder: Path, dialect: str | None) -> list[Change]:
    plan = folder / PLAN
    entries = parse_plan(plan)
    name_scripts(entries, plan)
    _check_orphan_reverts(folder, entries)
    project = plan_project(plan)
    workdir = project_dir(folder)
    changes = [_read_one(folder, plan, entry, str(n), dialect, workdir) for n, entry in enumerate(entries, start=1)]
    registry = registry_name(workdir)
    for change in changes:  # where sqitch's registry is and what its rows are named (dualpath adopt)
        change.extra.update(sqitch_project=project, sqitch_registry=registry)
    return changes


def registry_name(workdir: Path) -> str | None:
    """The registry sqitch.conf names (``registry = x`` under ``[engine "..."]``, else ``[core]``): a
    schema on PostgreSQL, a database of its own on MySQL; None for sqitch's default, ``sqitch``."""
    conf = workdir / "sqitch.conf"
    if not conf.is_file():
        return None
    section, found = "", dict[str, str]()
    for raw in conf.read_text(errors="replace").splitlines():
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].split()[0].lower()
        elif (match := re.match(r"registry\s*=\s*(\S+)", line)) and section in ("engine", "core"):
            found.setdefault(section, match.group(1).strip('"'))
    return found.get("engine") or found.get("core")


def plan_project(plan: Path) -> str | None:
    """The ``%project=`` pragma: the name sqitch records every deployed change under."""
    for raw in read_text(plan).split("\n"):
        found = re.match(r"^\s*%\s*project\s*=\s*(\S+)", raw)
        if found:
            return found.group(1)
    return None


def parse_plan(plan: Path) -> list[PlanEntry]:
    entries: list[PlanEntry] = []
    for number, raw in enumerate(read_text(plan).split("\n"), start=1):
        line = raw.strip()
        if not line or line.startswith(("#", "%")):
            continue  # blank, comment or pragma (%syntax-version, %project, %uri)
        tag = _TAG.match(line)
        if tag:
            if entries:
                entries[-1].tags.append(tag["tag"])
            continue
        entries.append(_parse_change(line, plan, number))
    return entries


def _parse_change(line: str, plan: Path, number: int) -> PlanEntry:
    match = _CHANGE.match(line)
    where = f"{plan}:{number}"
    if not match:
        raise InputError("cannot read this sqitch plan line", where=where,
                         hint=f"a change line looks like: {_PLAN_FORM}")
    if match["op"] == "-":
        raise InputError(f"plan line reverts change {match['name']} ('-' prefix): not supported yet",
                         where=where, hint="remove the '-' line and the change it reverts from the plan")
    deps = (match["deps"] or "").split()
    return PlanEntry(
        name=match["name"], line=number, note=(match["note"] or "").strip(),
        requires=[d for d in deps if not d.startswith("!")],
        conflicts=[d[1:] for d in deps if d.startswith("!")],
    )


def name_scripts(entries: list[PlanEntry], plan: Path) -> None:
    """A reworked change keeps its older scripts as ``name@tag.sql``. As sqitch reads it
    (App::Sqitch::Plan, rework_tags): the candidate tags are those between the two entries, latest
    first, then the old entry's own; the first whose deploy script exists is used, else the latest
    (``sqitch rework`` names the copy after the latest tag)."""
    deploy_dir = plan.parent / "deploy"
    for index, entry in enumerate(entries):
        later = next((j for j in range(index + 1, len(entries)) if entries[j].name == entry.name), None)
        if later is None:
            entry.script = entry.name
            continue
        tags = [t for e in reversed(entries[index + 1:later]) for t in e.tags] + entry.tags
        if not tags:
            raise InputError(f"change {entry.name} is reworked without a tag in between",
                             where=f"{plan}:{entries[later].line}",
                             hint="add a @tag line between the two entries, as 'sqitch rework' requires")
        found = next((t for t in tags if present(deploy_dir / f"{entry.name}@{t}.sql")), tags[0])
        entry.script = f"{entry.name}@{found}"


def _check_orphan_reverts(folder: Path, entries: list[PlanEntry]) -> None:
    known = {e.script for e in entries}
    revert_dir = folder / "revert"
    if not revert_dir.is_dir():
        return
    for path in (p for p in walk_files(revert_dir) if p.suffix == ".sql"):
        stem = str(path.relative_to(revert_dir))[: -len(".sql")]
        if stem not in known:
            raise InputError(f"rollback without forward: {path} is not named in {PLAN}",
                             where=f"{path}:1",
                             hint=f"add {stem} to {PLAN} with its deploy script, or delete {path.name}")


def _read_script(path: Path, dialect: str | None, checksum: Any = None,
                 workdir: Path | None = None) -> tuple[Part, bool]:
    """A sqitch script without its BEGIN/COMMIT; on PostgreSQL, sqitch runs it through psql, so
    ``\\set`` variables are read as psql reads them (sources/psql.py), ``cat FILE`` relative to
    ``workdir``, the directory sqitch runs psql in; and ``\\gexec`` runs what its query returns."""
    if dialect in ("postgresql", None) and os.stat(check_path(path)).st_size <= LAZY_BYTES:
        text = read_text(path)
        if psql.has_meta_commands(text):
            notes: list[str] = []
            part, dropped = _split_script(psql.expand(text, path, psql.Shell(workdir, notes=notes)), path, dialect)
            for line in notes:
                note(line)
            if checksum is not None:
                # sqitch hashes the script as written: a file it cats may change without drift
                as_written, _ = _split_script(psql.expand(text, path, psql.Shell(run=False)), path, dialect)
                feed_checksum(checksum, as_written.statements)
            return part, dropped
    part, dropped = read_script(path, dialect, checksum, drop_transaction=True, psql=dialect in ("postgresql", None))
    if dialect == "mysql" and isinstance(part.statements, tuple):  # sqitch runs it with the mysql client
        statements = tuple(replace(s, text=as_client_sends(s.text, s.where)) for s in part.statements)
        part = Part(statements, part.directives)
    return part, dropped


def _split_script(text: str, path: Path, dialect: str | None) -> tuple[Part, bool]:
    part = split_part(text, path, dialect, psql=True)
    statements, dropped = drop_transaction_control(part.statements)
    return Part(statements, part.directives), dropped


def project_dir(folder: Path) -> Path:
    """Where sqitch runs (and so psql's working directory): the folder holding ``sqitch.conf``, the
    migrations folder itself or a parent whose sqitch.conf sets ``top_dir`` to it."""
    if present(folder / "sqitch.conf"):
        return folder
    real = folder.resolve()
    for parent in list(real.parents)[:3]:
        conf = parent / "sqitch.conf"
        if conf.is_file():
            found = re.search(r"^\s*top_dir\s*=\s*(\S+)", conf.read_text(errors="replace"), re.M)
            if found and (parent / found.group(1)).resolve() == real:
                return parent
    return folder


def _read_one(folder: Path, plan: Path, entry: PlanEntry, version: str, dialect: str | None,
              workdir: Path) -> Change:
    where = f"{plan}:{entry.line}"
    deploy = folder / "deploy" / f"{entry.script}.sql"
    revert = folder / "revert" / f"{entry.script}.sql"
    verify = folder / "verify" / f"{entry.script}.sql"
    if not present(deploy):
        raise InputError(f"{PLAN} names change {entry.name} but {deploy} is missing", where=where,
                         hint=f"add {deploy} or remove the change from {PLAN}")
    checksum = hashlib.sha256()
    forward, forward_dropped = _read_script(deploy, dialect, checksum, workdir)
    require_statements(forward, deploy)
    checksum.update(ROLLBACK_MARK)
    rollback, rollback_dropped = (_read_script(revert, dialect, checksum, workdir)
                                  if present(revert) else (None, False))
    implied = require_rollback(version, forward, rollback, str(revert), where if rollback is None else f"{revert}:1",
                               message=f"no rollback for version {version} ({entry.name}): {revert} is missing"
                               if rollback is None else None)
    checks, _ = _read_script(verify, dialect, workdir=workdir) if present(verify) else (Part((), ()), False)
    return build_change(
        version=version, description=entry.note or entry.name, forward=forward, rollback=rollback,
        file=deploy, layout=NAME, rollback_file=revert if rollback else None, directives=implied,
        extra={"sqitch_name": entry.name, "sqitch_requires": entry.requires,
               "sqitch_conflicts": entry.conflicts, "sqitch_tags": entry.tags, "plan_line": where,
               "verify": checks.statements, "verify_file": str(verify) if present(verify) else None,
               "dropped_transaction_statements": forward_dropped or rollback_dropped},
        checksum=checksum.hexdigest(),
    )


READER = Reader(name=NAME, example="sqitch.plan with deploy/ and revert/", find=find, read=read)
