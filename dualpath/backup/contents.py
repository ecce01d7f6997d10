"""What a backup holds, as the manifest records it: the tables, their row counts, the part of the schema
they carry; and the comparison of a restore with it."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from dualpath.backup.manifest import Manifest, bare_name
from dualpath.engines import Engine, Fingerprint
from dualpath.errors import (
    UsageError,
    VerificationFailed,
)
from dualpath.urls import safe_url


def check_tables(engine: Engine, conn: Connection, tables: list[str] | None) -> list[str]:
    if tables is None:
        return list(engine.iter_tables(conn))
    missing = [t for t in tables if not engine.table_exists(conn, t)]
    if missing:
        raise UsageError(f"table(s) {', '.join(missing)} do not exist in {safe_url(engine.url)}",
                         hint="check --tables, or leave it out to back up the whole database")
    return list(dict.fromkeys(tables))


def scope_fingerprint(fingerprint: Fingerprint, tables: Sequence[str] | None) -> Fingerprint:
    """The part of a schema a table-scoped dump carries: the tables and what hangs off them."""
    if tables is None:
        return fingerprint
    wanted = {bare_name(t) for t in tables}
    objects = {kind: {name: attrs for name, attrs in entries.items()
                      if bare_name(name if kind == "table" else attrs.get("table")) in wanted}
               for kind, entries in fingerprint.objects.items()}
    return Fingerprint({kind: entries for kind, entries in objects.items() if entries})


def count_rows(engine: Engine, conn: Connection, tables: Sequence[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for table in tables:
        quoted = ".".join(engine.quote_ident(part) for part in table.split("."))
        counts[table] = int(conn.exec_driver_sql(f"SELECT COUNT(*) FROM {quoted}").scalar() or 0)
    return counts


def compare_contents(manifest: Manifest, fingerprint: Fingerprint, counts: dict[str, int], into: str) -> None:
    problems = contents_problems(manifest, counts)
    if fingerprint.digest != manifest.fingerprint_digest:
        problems += Fingerprint(manifest.fingerprint).diff(fingerprint)[:10] or ["schema fingerprint differs"]
    if problems:
        raise VerificationFailed(f"restore of backup {manifest.backup_id} into {into} differs from its manifest:\n  "
                                 + "\n  ".join(problems), hint="this backup cannot be trusted; take a new one")


def contents_problems(manifest: Manifest, counts: dict[str, int]) -> list[str]:
    """Tables and rows restored (``counts``: table → rows, of the tables that came back) against the manifest."""
    problems = [f"table {t}: in the manifest ({manifest.row_counts.get(t, '?')} rows), not restored"
                for t in manifest.tables if t not in counts]
    for table in sorted(set(counts) - set(manifest.tables)):
        problems.append(f"table {table}: restored ({counts[table]} rows), not in the manifest")
    problems += [f"table {t}: {manifest.row_counts.get(t)} rows in the manifest, {counts[t]} restored"
                 for t in manifest.tables if t in counts and manifest.row_counts.get(t) != counts[t]]
    return problems
