"""Schema tenants of one database backed up by one shared dump (issue 16, item 13): one pg_dump for the
group, a verified manifest per tenant over the one artifact, restore of one tenant takes only its
schema back, a failed dump fails every tenant of the group, and retention keeps a shared artifact
while any tenant's manifest still names it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dualpath import history
from dualpath.apply import Runner
from dualpath.backup import BackupSettings, list_backups, prune_backups, verify_backup
from dualpath.config import Safety
from dualpath.engines import open_engine
from dualpath.errors import TargetRefused
from dualpath.sources import read_changes
from dualpath.target import Target
from dualpath.tenants import TenantTarget, back_up_tenants, restore_tenant, share_groups
from dualpath.urls import parse_url
from tests.integration.dbs import server_database
from tests.integration.test_schema_tenants import sql, tenant_url

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).resolve().parents[2] / "examples" / "shop" / "migrations"
NAMES = ("a", "b", "c", "d")
# Counts its runs (not --version) in the file beside it, then runs the real pg_dump, or fails.
COUNTING = """#!/bin/sh
case "$*" in *--version*) exec {real} "$@";; esac
echo run >> {calls}
{fail}
exec {real} "$@"
"""


@pytest.fixture
def shared_db(request: pytest.FixtureRequest) -> Iterator[str]:
    """One fresh database with schemas tenant_a .. tenant_d at shop version 4; tenant i has i customers."""
    with server_database("postgresql", request.node.name) as url:
        sql(url, *(f"CREATE SCHEMA tenant_{n}" for n in NAMES))
        changes = read_changes(MIGRATIONS, dialect="postgresql")
        for index, name in enumerate(NAMES, start=1):
            target_url = tenant_url(url, name)
            target = Target(f"tenant_{name}", parse_url(target_url), MIGRATIONS, Safety())
            actor = history.make_actor("test", MIGRATIONS, "test")
            Runner(target, open_engine(target_url), changes, actor, echo=lambda _line: None).apply(to="4")
            sql(url, *(f"INSERT INTO tenant_{name}.customers (id, tenant_id, email, name) VALUES "
                       f"({index * 10 + i}, {index}, 'c{i}@{name}.example', 'Customer {i}')"
                       for i in range(1, index + 1)))
        yield url


def tenants(url: str) -> list[TenantTarget]:
    return [TenantTarget(n, tenant_url(url, n)) for n in NAMES]


def release() -> list[Any]:
    """Versions 5-7 of the shop: 7 (irreversible) drops customers.name, so customers is at risk."""
    return [c for c in read_changes(MIGRATIONS, dialect="postgresql") if c.version in ("5", "6", "7")]


def counting_pg_dump(folder: Path, fail: bool = False) -> tuple[Path, Path]:
    real = shutil.which("pg_dump")
    if real is None:
        pytest.skip("pg_dump is not installed")
    calls = folder / "pg_dump.calls"
    wrapper = folder / "pg_dump"
    wrapper.write_text(COUNTING.format(real=real, calls=calls,
                                       fail='echo "pg_dump: error: disk full" >&2; exit 1' if fail else ""))
    wrapper.chmod(0o755)
    return wrapper, calls


def settings_with(wrapper: Path) -> BackupSettings:
    return BackupSettings.model_validate({"tools": {"pg_dump": str(wrapper)}})


def test_schema_tenants_of_one_database_share_one_dump_with_a_manifest_each(shared_db: str, tmp_path: Path) -> None:
    wrapper, calls = counting_pg_dump(tmp_path)
    dest = f"file://{tmp_path / 'backups'}"
    group = tenants(shared_db)
    assert share_groups(group, settings_with(wrapper)) == [group]
    ids = back_up_tenants(group, {t.name: release() for t in group}, dest, settings_with(wrapper))

    assert calls.read_text().splitlines() == ["run"]  # one pg_dump for the four tenants
    dumps = sorted(p.relative_to(tmp_path / "backups") for p in (tmp_path / "backups").rglob("*.dump"))
    assert len(dumps) == 1  # one artifact ...
    manifests = {m.backup_id: m for m in list_backups(dest)}
    assert sorted(manifests) == sorted(i for i in ids.values() if i)  # ... and a backup id per tenant
    assert {m.shared for m in manifests.values()} == {dumps[0].parts[0]}
    for index, name in enumerate(NAMES, start=1):
        manifest = manifests[str(ids[name])]
        assert manifest.schema_name == f"tenant_{name}" and manifest.tables == [f"tenant_{name}.customers"]
        assert manifest.row_counts == {f"tenant_{name}.customers": index}
        assert manifest.change_ids == ["6", "7"]  # 5 only adds a column
        verify_backup(dest, manifest.backup_id)  # every manifest proves the shared artifact's bytes


def test_restoring_one_tenant_takes_back_its_schema_only(shared_db: str, tmp_path: Path) -> None:
    dest = f"file://{tmp_path / 'backups'}"
    group = tenants(shared_db)
    ids = back_up_tenants(group, {t.name: release() for t in group}, dest, BackupSettings())
    before = sql(shared_db, "SELECT count(*) FROM tenant_a.customers")
    server = open_engine(shared_db)
    scratch = f"{server.url.database}_restore"
    try:
        report = restore_tenant(group[2], str(ids["c"]), None, dest, BackupSettings())
        assert report.row_counts == {"tenant_c.customers": 3}
        restored = sql(str(server.url.set(database=scratch).render_as_string(hide_password=False)),
                       "SELECT table_schema, table_name FROM information_schema.tables "
                       "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')")
        assert sorted(tuple(r) for r in restored) == [("tenant_c", "customers")]  # not a, b or d
    finally:
        server.drop_database(scratch)
    assert sql(shared_db, "SELECT count(*) FROM tenant_a.customers") == before  # the tenants are untouched


def test_a_failed_shared_dump_fails_every_tenant_of_it_and_leaves_nothing(shared_db: str, tmp_path: Path) -> None:
    wrapper, calls = counting_pg_dump(tmp_path, fail=True)
    dest = f"file://{tmp_path / 'backups'}"
    group = tenants(shared_db)
    with pytest.raises(TargetRefused) as refused:
        back_up_tenants(group, {t.name: release() for t in group}, dest, settings_with(wrapper))
    message = refused.value.message
    assert "tenants a, b, c, d not migrated" in message and "disk full" in message, message
    assert calls.read_text().splitlines() == ["run"]
    assert list_backups(dest) == [] and not any(p.is_file() for p in (tmp_path / "backups").rglob("*"))


def test_tenants_with_nothing_at_risk_are_left_out_of_the_shared_dump(shared_db: str, tmp_path: Path) -> None:
    dest = f"file://{tmp_path / 'backups'}"
    group = tenants(shared_db)
    changes = {"a": release(), "b": [], "c": release(), "d": []}
    ids = back_up_tenants(group, changes, dest, BackupSettings())
    assert ids["b"] is None and ids["d"] is None
    manifests = list_backups(dest)
    assert sorted(m.schema_name or "" for m in manifests) == ["tenant_a", "tenant_c"]
    assert len({m.shared for m in manifests}) == 1


def test_retention_keeps_a_shared_artifact_while_a_manifest_names_it(shared_db: str, tmp_path: Path) -> None:
    dest = f"file://{tmp_path / 'backups'}"
    group = tenants(shared_db)
    first = back_up_tenants(group[:2], {t.name: release() for t in group[:2]}, dest, BackupSettings())
    old_shared = {m.shared for m in list_backups(dest)}.pop()
    second = back_up_tenants(group[2:], {t.name: release() for t in group[2:]}, dest, BackupSettings())
    newest = list_backups(dest)[0]

    pruned = prune_backups(dest, keep_n=3)  # one tenant of the first dump expires, the other still names it
    assert len(pruned) == 1 and pruned[0] in first.values()
    survivor = next(i for i in first.values() if i not in pruned)
    verify_backup(dest, str(survivor))  # its artifact is still there
    assert (tmp_path / "backups" / str(old_shared)).is_dir()

    pruned = prune_backups(dest, keep_n=1)  # now nothing names the first shared artifact: it goes
    assert set(pruned) == {str(survivor), *[i for i in second.values() if i != newest.backup_id]}
    assert not (tmp_path / "backups" / str(old_shared)).exists()
    verify_backup(dest, newest.backup_id)
    assert json.loads((tmp_path / "backups" / newest.backup_id / "manifest.json").read_text())["format"] == 2


def test_a_shared_backup_restores_only_into_its_tenants_schema(shared_db: str, tmp_path: Path) -> None:
    from dualpath.backup import restore_backup
    from dualpath.errors import UsageError

    dest = f"file://{tmp_path / 'backups'}"
    group = tenants(shared_db)
    ids = back_up_tenants(group, {t.name: release() for t in group}, dest, BackupSettings())
    server = open_engine(shared_db)
    unconfined = server.url.set(database=f"{server.url.database}_restore")  # no search_path: no schema
    with pytest.raises(UsageError, match="schema tenant_b of a shared dump"):
        restore_backup(dest, str(ids["b"]), unconfined)
