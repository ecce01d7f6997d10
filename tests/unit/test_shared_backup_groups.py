"""Which tenants share one dump, where a shared manifest's artifact is, and which shared artifacts
retention may delete: no server needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from dualpath.backup import Artifact, BackupSettings, Manifest, manifest_json, unreferenced_shared
from dualpath.backup.destinations import FileDestination
from dualpath.backup.manifest import read_manifest
from dualpath.errors import VerificationFailed
from dualpath.tenants import TenantTarget, share_groups

SHOP = "postgresql://app@db:5432/shop"
SCHEMA = "?options=-csearch_path%3Dtenant_{}"


def shared_manifest(backup_id: str, shared: str | None, created: str = "2026-12-04T10:00:00.000000Z") -> Manifest:
    return Manifest(format=2, backup_id=backup_id, created_at=created, created_by="ops", engine="postgresql",
                    flavor="postgresql", server_version="15.2", tool="pg_dump", source=SHOP, database="shop",
                    scope="tables", tables=["tenant_a.t"], row_counts={"tenant_a.t": 1}, fingerprint_digest="d",
                    fingerprint={}, change_ids=["7"], artifacts=[Artifact(name="shop.dump", sha256="0" * 64, size=1)],
                    shared=shared, schema_name="tenant_a")


def test_schema_tenants_of_one_database_are_one_group_in_order() -> None:
    tenants = [TenantTarget("a", SHOP + SCHEMA.format("a")), TenantTarget("x", "postgresql://app@db:5432/x"),
               TenantTarget("b", SHOP + SCHEMA.format("b")),
               TenantTarget("c", "postgresql://app@db:5432/other" + SCHEMA.format("c")),
               TenantTarget("d", SHOP + SCHEMA.format("d")), TenantTarget("m", "mysql://root@db:3306/m"),
               TenantTarget("s", "sqlite:///tmp/s.db")]
    groups = [[t.name for t in g] for g in share_groups(tenants, BackupSettings())]
    assert groups == [["a", "b", "d"], ["x"], ["c"], ["m"], ["s"]]


def test_a_whole_database_backup_policy_shares_nothing() -> None:
    tenants = [TenantTarget(n, SHOP + SCHEMA.format(n)) for n in "abc"]
    groups = share_groups(tenants, BackupSettings(scope="database"))
    assert [[t.name for t in g] for g in groups] == [["a"], ["b"], ["c"]]


def test_a_shared_manifest_finds_its_artifact_in_the_shared_folder() -> None:
    manifest = shared_manifest("20261204T100000Z-shop-tenant_a-abc123", "20261204T100000Z-shop-shared-def456")
    assert manifest.artifact_key(manifest.artifacts[0]) == "20261204T100000Z-shop-shared-def456/shop.dump"
    own = shared_manifest("x", None)
    assert own.artifact_key(own.artifacts[0]) == "x/shop.dump"


def test_a_shared_folder_outside_the_destination_is_refused(tmp_path: Path) -> None:
    destination = FileDestination(tmp_path)
    destination.put_bytes("b1/manifest.json", manifest_json(shared_manifest("b1", "../elsewhere")))
    with pytest.raises(VerificationFailed, match="outside its backup folder"):
        read_manifest(destination, "b1")


def test_retention_deletes_a_shared_artifact_only_when_no_kept_manifest_names_it() -> None:
    manifests = [shared_manifest("a1", "s1"), shared_manifest("a2", "s1"), shared_manifest("b1", "s2"),
                 shared_manifest("own", None)]
    assert unreferenced_shared(manifests, ["a1"]) == []  # a2 still names s1
    assert unreferenced_shared(manifests, ["a1", "a2", "own"]) == ["s1"]
    assert unreferenced_shared(manifests, ["a1", "a2", "b1"]) == ["s1", "s2"]
