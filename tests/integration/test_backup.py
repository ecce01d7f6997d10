"""Backups on real servers: S3 through moto's server mode, file:// in a temp folder.

Each engine: create → list → verify → restore into a scratch database, fingerprint and row
counts compared with the manifest. Plus: a corrupted artifact, an unreachable S3, a missing
client tool, retention, and secrets that must never show up.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, closing
from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from dualpath.backup import (
    MANIFEST,
    BackupSettings,
    Manifest,
    create_backup,
    ensure_backup_for,
    list_backups,
    prune_backups,
    restore_backup,
    verify_backup,
)
from dualpath.backup.destinations import S3Settings
from dualpath.changes import Change, Statement
from dualpath.cli.commands.backup import backup_app
from dualpath.engines import open_engine
from dualpath.engines.dump import ToolSettings
from dualpath.errors import BackupFailed, InputError, TargetRefused, UsageError, VerificationFailed
from tests.integration.dbs import SERVERS, database_name, server_database

pytestmark = pytest.mark.integration

S3_SECRET = "s3-SECRET-key-" + secrets.token_hex(4)
DB_PASSWORD = "pg-s3cret-" + secrets.token_hex(4)


# -- fixtures -------------------------------------------------------------------------------


def free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    """moto's S3 server on a free loopback port, killed afterwards."""
    port = free_port()
    binary = Path(sys.executable).parent / "moto_server"
    proc = subprocess.Popen([str(binary), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"moto_server did not start on {endpoint} (exit {proc.poll()})", pytrace=False)
                time.sleep(0.1)
        yield endpoint
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def s3(moto_endpoint: str, request: pytest.FixtureRequest) -> tuple[str, BackupSettings]:
    """A fresh bucket; returns its s3:// destination and settings pointing at moto."""
    s3_settings = S3Settings(endpoint_url=moto_endpoint, region="us-east-1", access_key_id="testing",
                             secret_access_key=SecretStr(S3_SECRET))
    bucket = f"dp-{secrets.token_hex(6)}"
    s3_client(s3_settings).create_bucket(Bucket=bucket)
    return f"s3://{bucket}/backups/prod", BackupSettings(s3=s3_settings)


def s3_client(s: S3Settings):  # type: ignore[no-untyped-def]
    import boto3

    assert s.secret_access_key is not None
    return boto3.client("s3", endpoint_url=s.endpoint_url, region_name=s.region, aws_access_key_id=s.access_key_id,
                        aws_secret_access_key=s.secret_access_key.get_secret_value())


@pytest.fixture
def scratch_url(any_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of the same engine to restore into."""
    backend = open_engine(any_url).name
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'scratch.db'}"  # restore creates it
        return
    with server_database(backend, request.node.name + "_scratch") as url:
        yield url


def seed(url: str, rows: int = 500) -> None:
    """Two tables, an index, a default; the same SQL on all three engines."""
    engine = open_engine(url)
    with engine.connect() as conn:
        conn.exec_driver_sql("CREATE TABLE orders (id INTEGER PRIMARY KEY, n INTEGER NOT NULL DEFAULT 0, "
                             "note VARCHAR(50))")
        conn.exec_driver_sql("CREATE INDEX orders_n ON orders (n)")
        conn.exec_driver_sql("CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR(50))")
        conn.exec_driver_sql("INSERT INTO customers (id, name) VALUES (1, 'ada'), (2, 'bob'), (3, 'cy')")
        conn.exec_driver_sql("INSERT INTO orders (id, n, note) VALUES (%s, %s, %s)" if engine.name != "sqlite"
                             else "INSERT INTO orders (id, n, note) VALUES (?, ?, ?)",
                             [(i, i % 7, f"note {i}") for i in range(1, rows + 1)])
        conn.commit()


def drop_change(version: str = "2", sql: str = "DROP TABLE orders") -> Change:
    return Change(version=version, description="drop orders", forward=(Statement(sql, f"V{version}__x.sql", 1),),
                  rollback=(), file=f"V{version}__x.sql")


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(backup_app, list(args))
    return result.exit_code, result.output


# -- round trips ----------------------------------------------------------------------------


def test_s3_round_trip(any_url: str, scratch_url: str, s3: tuple[str, BackupSettings],
                       monkeypatch: pytest.MonkeyPatch) -> None:
    dest, settings = s3
    monkeypatch.setenv("DUALPATH_USER", "ops-alice")
    seed(any_url)
    manifest = create_backup(any_url, ["orders"], ["2", "3"], dest, settings)

    engine = open_engine(any_url)
    assert manifest.engine == engine.name
    assert manifest.row_counts["orders"] == 500
    assert manifest.change_ids == ["2", "3"] and manifest.created_by == "ops-alice"
    assert manifest.created_at.endswith("Z") and manifest.server_version
    assert [b.backup_id for b in list_backups(dest, settings)] == [manifest.backup_id]

    # The manifest sits beside the artifact in the bucket and names its exact bytes.
    bucket, prefix = dest[5:].split("/", 1)
    client = s3_client(settings.s3)
    artifact = manifest.artifacts[0]
    body = client.get_object(Bucket=bucket, Key=f"{prefix}/{manifest.backup_id}/{artifact.name}")["Body"].read()
    assert hashlib.sha256(body).hexdigest() == artifact.sha256 and len(body) == artifact.size
    stored = json.loads(client.get_object(Bucket=bucket, Key=f"{prefix}/{manifest.backup_id}/manifest.json")["Body"]
                        .read())
    assert stored["fingerprint_digest"] == manifest.fingerprint_digest

    assert verify_backup(dest, manifest.backup_id, settings).backup_id == manifest.backup_id
    report = restore_backup(dest, manifest.backup_id, scratch_url, settings)
    assert report.fingerprint_digest == manifest.fingerprint_digest
    assert report.row_counts == manifest.row_counts


def test_file_round_trip_through_the_cli(any_url: str, scratch_url: str, tmp_path: Path) -> None:
    seed(any_url)
    dest = f"file://{tmp_path / 'backups'}"
    code, out = cli("create", "--url", any_url, "--to", dest, "--change", "7")
    assert code == 0, out
    backup_id = out.split()[1].rstrip(":")

    code, out = cli("list", "--to", dest, "--json")
    assert code == 0, out
    listed = json.loads(out)
    assert [b["backup_id"] for b in listed] == [backup_id]
    assert listed[0]["scope"] == "database" and listed[0]["row_counts"] == {"customers": 3, "orders": 500}

    assert cli("verify", "--to", dest, "--id", backup_id)[0] == 0
    code, out = cli("restore", "--to", dest, "--id", backup_id, "--into", scratch_url)
    assert code == 0, out
    assert "match the manifest" in out
    with open_engine(scratch_url).connect() as conn:
        assert conn.exec_driver_sql("SELECT COUNT(*) FROM customers").scalar() == 3


def test_restore_refuses_a_scratch_database_with_tables(sqlite_url: str, tmp_path: Path) -> None:
    seed(sqlite_url, rows=5)
    manifest = create_backup(sqlite_url, None, [], f"file://{tmp_path}/b")
    with pytest.raises(UsageError, match="not empty"):
        restore_backup(f"file://{tmp_path}/b", manifest.backup_id, sqlite_url)


# -- verification and refusal ---------------------------------------------------------------


def test_corrupted_artifact_fails_verify(sqlite_url: str, tmp_path: Path, s3: tuple[str, BackupSettings]) -> None:
    seed(sqlite_url, rows=50)
    folder = tmp_path / "b"
    manifest = create_backup(sqlite_url, None, [], f"file://{folder}")
    artifact = folder / manifest.backup_id / manifest.artifacts[0].name
    data = bytearray(artifact.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, one flipped byte
    artifact.write_bytes(bytes(data))
    with pytest.raises(VerificationFailed, match="does not match its manifest"):
        verify_backup(f"file://{folder}", manifest.backup_id)
    code, out = cli("verify", "--to", f"file://{folder}", "--id", manifest.backup_id)
    assert code == 1 and "error:" in out and "sha256" in out

    dest, settings = s3
    manifest = create_backup(sqlite_url, None, [], dest, settings)
    bucket, prefix = dest[5:].split("/", 1)
    key = f"{prefix}/{manifest.backup_id}/{manifest.artifacts[0].name}"
    s3_client(settings.s3).put_object(Bucket=bucket, Key=key, Body=b"truncated")
    with pytest.raises(VerificationFailed, match="size 9 vs"):
        verify_backup(dest, manifest.backup_id, settings)


def test_unreachable_s3_refuses_the_destructive_change(pg_url: str) -> None:
    seed(pg_url, rows=10)
    closed = S3Settings(endpoint_url=f"http://127.0.0.1:{free_port()}", region="us-east-1", access_key_id="x",
                        secret_access_key=SecretStr(S3_SECRET), connect_timeout_s=1, max_attempts=1)
    settings = BackupSettings(s3=closed)
    with pytest.raises(TargetRefused) as refused:
        ensure_backup_for([drop_change()], pg_url, "s3://nowhere/x", settings)
    assert refused.value.exit_code == 3
    assert "2" in str(refused.value) and "cannot reach S3" in str(refused.value)
    assert S3_SECRET not in str(refused.value)
    # A change that destroys nothing needs no backup, and so does not touch S3 at all.
    harmless = drop_change("3", "CREATE INDEX orders_note ON orders (note)")
    assert ensure_backup_for([harmless], pg_url, "s3://nowhere/x", settings) is None


def test_destructive_change_is_backed_up_and_verified(mysql_url: str, s3: tuple[str, BackupSettings]) -> None:
    seed(mysql_url, rows=20)
    dest, settings = s3
    manifest = ensure_backup_for([drop_change("5", "DELETE FROM orders WHERE n = 1")], mysql_url, dest, settings)
    assert manifest is not None
    assert manifest.tables == ["orders"] and manifest.change_ids == ["5"] and manifest.row_counts == {"orders": 20}


# -- tools ----------------------------------------------------------------------------------


@pytest.mark.parametrize("fixture,tool", [("pg_url", "pg_dump"), ("mysql_url", "mysqldump")])
def test_missing_client_tool_is_a_clear_error_before_anything_runs(
        fixture: str, tool: str, request: pytest.FixtureRequest, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    url = str(request.getfixturevalue(fixture))
    seed(url, rows=5)
    folder = tmp_path / "b"
    bogus = BackupSettings(tools=ToolSettings(**{tool: "/nonexistent/bin/" + tool}))
    with pytest.raises(InputError, match=f"configured {tool} '/nonexistent/bin/{tool}' does not exist"):
        create_backup(url, None, [], f"file://{folder}", bogus)
    with pytest.raises(TargetRefused, match="does not exist or is not executable"):
        ensure_backup_for([drop_change()], url, f"file://{folder}", bogus)

    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(InputError, match="not found on PATH") as missing:
        create_backup(url, ["orders"], [], f"file://{folder}")
    assert f"backup.tools.{tool}" in str(missing.value)
    assert not folder.exists()  # nothing ran: not even the destination was touched


# -- retention ------------------------------------------------------------------------------


def test_prune_keeps_the_newest(sqlite_url: str, tmp_path: Path) -> None:
    seed(sqlite_url, rows=5)
    dest = f"file://{tmp_path}/b"
    ids = [create_backup(sqlite_url, None, [], dest).backup_id for _ in range(3)]
    assert prune_backups(dest, keep_n=5) == []
    code, out = cli("prune", "--to", dest, "--keep", "1")
    assert code == 0, out
    assert [b.backup_id for b in list_backups(dest)] == [ids[-1]]  # the last one taken, not the greatest id
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == [ids[-1]]  # folders gone too


# -- secrets --------------------------------------------------------------------------------


def test_secrets_never_reach_output_manifest_or_logs(pg_url: str, scratch_url_pg: str, moto_endpoint: str,
                                                     tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    seed(pg_url, rows=5)
    # The local server trusts loopback, so a password in the URL is accepted and ignored.
    with_password = pg_url.replace("postgres@", f"postgres:{DB_PASSWORD}@", 1)
    assert DB_PASSWORD in with_password
    # A pg_dump wrapper records its command line: the password must travel in the environment.
    argv_log = tmp_path / "argv.txt"
    wrapper = tmp_path / "pg_dump"
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> {argv_log}\n[ -n "$PGPASSWORD" ] && echo env-ok >> {argv_log}\n'
                       f'exec {subprocess.check_output(["which", "pg_dump"], text=True).strip()} "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", S3_SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    settings = BackupSettings(tools=ToolSettings(pg_dump=str(wrapper)))
    bucket = f"dp-{secrets.token_hex(6)}"
    s3_client(S3Settings(endpoint_url=moto_endpoint, region="us-east-1", access_key_id="testing",
                         secret_access_key=SecretStr(S3_SECRET))).create_bucket(Bucket=bucket)
    caplog.set_level(logging.DEBUG)

    manifest = create_backup(with_password, None, ["9"], f"s3://{bucket}/p", settings)
    report = restore_backup(f"s3://{bucket}/p", manifest.backup_id, scratch_url_pg, settings)
    outputs = [cli("list", "--to", f"s3://{bucket}/p", "--json")[1],
               cli("create", "--url", with_password, "--to", f"s3://{bucket}/second")[1],
               cli("create", "--url", with_password.replace("127.0.0.1:5432", "127.0.0.1:1"),
                   "--to", f"file://{tmp_path}/c")[1]]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")
    outputs.append(cli("create", "--url", with_password, "--to", f"s3://{bucket}/p")[1])

    argv = argv_log.read_text()
    assert "env-ok" in argv
    everything = "\n".join([manifest.model_dump_json(), repr(report), *outputs, caplog.text, argv,
                            *(r.getMessage() for r in caplog.records)])
    assert "error:" in outputs[2] and "error:" in outputs[3]  # the failures were reported...
    assert DB_PASSWORD not in everything  # ...and nothing anywhere carries a secret
    assert S3_SECRET not in everything


@pytest.fixture
def scratch_url_pg(request: pytest.FixtureRequest) -> Iterator[str]:
    with server_database("postgresql", request.node.name + "_scratch") as url:
        yield url



def test_large_artifact_goes_up_in_parts(sqlite_url: str, s3: tuple[str, BackupSettings]) -> None:
    engine = open_engine(sqlite_url)
    with engine.connect() as conn:
        conn.exec_driver_sql("CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB)")
        conn.exec_driver_sql("INSERT INTO blobs (id, data) VALUES (?, ?)",
                             [(i, os.urandom(64 * 1024)) for i in range(200)])  # ~13 MB, incompressible
        conn.commit()
    dest, settings = s3
    settings.s3.multipart_threshold_mb = settings.s3.multipart_chunk_mb = 5
    manifest = create_backup(sqlite_url, None, [], dest, settings)
    bucket, prefix = dest[5:].split("/", 1)
    head = s3_client(settings.s3).head_object(Bucket=bucket,
                                              Key=f"{prefix}/{manifest.backup_id}/{manifest.artifacts[0].name}")
    assert head["ETag"].strip('"').endswith("-3")  # a multipart ETag names its part count
    assert manifest.artifacts[0].size > 10 * 1024 * 1024
    assert verify_backup(dest, manifest.backup_id, settings).row_counts == {"blobs": 200}


def test_postgres_counts_and_dump_share_one_snapshot(pg_url: str, scratch_url_pg: str, tmp_path: Path) -> None:
    """A writer keeps inserting during the backup; the restore still matches the manifest exactly."""
    seed(pg_url, rows=2000)
    stop, wrote = threading.Event(), threading.Event()

    def write() -> None:
        with open_engine(pg_url).connect() as conn:
            next_id = 100_000
            while not stop.is_set():
                conn.exec_driver_sql(f"INSERT INTO orders (id, n) VALUES ({next_id}, 1)")
                conn.commit()
                wrote.set()
                next_id += 1

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert wrote.wait(120), "the writer never committed a row"  # rows beyond the seed, however slow
        manifest = create_backup(pg_url, ["orders"], [], f"file://{tmp_path}/b")
    finally:
        stop.set()
        writer.join()
    assert manifest.row_counts["orders"] > 2000
    report = restore_backup(f"file://{tmp_path}/b", manifest.backup_id, scratch_url_pg)
    assert report.row_counts == manifest.row_counts


# -- restore proves what it restored, and never leaves a scratch database behind -------------


@pytest.fixture
def new_scratch(any_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A scratch database URL that does not exist yet (restore creates it); dropped afterwards if it is left."""
    engine = open_engine(any_url)
    if engine.name == "sqlite":
        yield f"sqlite:///{tmp_path / 'new_scratch.db'}"
        return
    url = engine.url.set(database=database_name(request.node.name + "_new"))
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        engine.drop_database(url.database or "")


def scratch_exists(url: str) -> bool:
    engine = open_engine(url)
    if engine.name == "sqlite":
        return Path(engine.url.database or "").exists()
    server = open_engine(SERVERS[engine.name][1])
    with server.connect() as conn:
        sql = ("SELECT 1 FROM pg_database WHERE datname = %(n)s" if engine.name == "postgresql"
               else "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %(n)s")
        return conn.exec_driver_sql(sql, {"n": engine.url.database}).first() is not None


def swap_artifact(folder: Path, backup_id: str, data: bytes) -> None:
    """Put ``data`` in place of the backup's artifact and update the manifest's sha256 and size to match:
    what someone who can write the destination could do; only the restore itself can catch it."""
    path = folder / backup_id / MANIFEST
    manifest = json.loads(path.read_text())
    (folder / backup_id / manifest["artifacts"][0]["name"]).write_bytes(data)
    manifest["artifacts"][0].update(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    path.write_text(json.dumps(manifest))


def artifact_bytes(folder: Path, manifest: Manifest) -> bytes:
    return (folder / manifest.backup_id / manifest.artifacts[0].name).read_bytes()


def test_a_dump_of_other_tables_swapped_in_is_caught_and_the_scratch_dropped(
        any_url: str, new_scratch: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    seed(any_url, rows=20)
    folder = tmp_path / "b"
    manifest = create_backup(any_url, None, [], f"file://{folder}")
    backend = open_engine(any_url).name
    with ExitStack() as stack:
        other = (f"sqlite:///{tmp_path / 'other.db'}" if backend == "sqlite"
                 else stack.enter_context(server_database(backend, request.node.name + "_other")))
        engine = open_engine(other)
        engine.ensure_exists()
        with engine.connect() as conn:
            conn.exec_driver_sql("CREATE TABLE widgets (id INTEGER PRIMARY KEY)")
            conn.exec_driver_sql("INSERT INTO widgets (id) VALUES (1), (2)")
            conn.commit()
        swapped = create_backup(other, None, [], f"file://{tmp_path}/o")
        swap_artifact(folder, manifest.backup_id, artifact_bytes(tmp_path / "o", swapped))
    code, out = cli("restore", "--to", f"file://{folder}", "--id", manifest.backup_id, "--into", new_scratch)
    assert code == 1, out
    assert "internal error" not in out and "differs from its manifest" in out
    assert "table orders: in the manifest (20 rows), not restored" in out
    assert "table widgets: restored (2 rows), not in the manifest" in out
    assert not scratch_exists(new_scratch)


def test_an_older_dump_of_the_same_tables_swapped_in_is_caught_by_its_row_counts(
        any_url: str, new_scratch: str, tmp_path: Path) -> None:
    seed(any_url, rows=20)
    folder = tmp_path / "b"
    older = create_backup(any_url, ["orders"], [], f"file://{folder}")
    with open_engine(any_url).connect() as conn:
        conn.exec_driver_sql("DELETE FROM orders WHERE id > 15")
        conn.commit()
    newer = create_backup(any_url, ["orders"], [], f"file://{folder}")
    swap_artifact(folder, newer.backup_id, artifact_bytes(folder, older))
    with pytest.raises(VerificationFailed, match="table orders: 15 rows in the manifest, 20 restored"):
        restore_backup(f"file://{folder}", newer.backup_id, new_scratch)
    assert not scratch_exists(new_scratch)


def test_a_truncated_dump_fails_the_restore_and_the_scratch_goes(any_url: str, new_scratch: str,
                                                                 tmp_path: Path) -> None:
    seed(any_url, rows=200)
    folder = tmp_path / "b"
    manifest = create_backup(any_url, None, [], f"file://{folder}")
    data = artifact_bytes(folder, manifest)
    swap_artifact(folder, manifest.backup_id, data[: len(data) // 2])
    code, out = cli("restore", "--to", f"file://{folder}", "--id", manifest.backup_id, "--into", new_scratch)
    assert code in (1, 4), out  # the tool failed (4), or what it restored is not what was backed up (1)
    assert "error:" in out and "internal error" not in out and "Traceback" not in out
    assert not scratch_exists(new_scratch)


@pytest.mark.parametrize("backend", ["postgresql", "mysql"])
def test_a_restore_tool_failing_after_it_wrote_leaves_no_scratch(backend: str, tmp_path: Path,
                                                                 request: pytest.FixtureRequest) -> None:
    """By construction: the real client tool restores everything, then the wrapper exits 1."""
    tool = {"postgresql": ("pg_restore", "pg_restore"), "mysql": ("mysql", "mysql")}[backend]
    real = subprocess.check_output(["which", tool[0]], text=True).strip()
    wrapper = tmp_path / tool[0]
    wrapper.write_text(f'#!/bin/sh\n{real} "$@" || exit $?\necho "interrupted after the restore" >&2\nexit 1\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    settings = BackupSettings(tools=ToolSettings(**{tool[1]: str(wrapper)}))
    with server_database(backend, request.node.name) as url:
        seed(url, rows=20)
        manifest = create_backup(url, None, [], f"file://{tmp_path}/b", settings)
        server = open_engine(SERVERS[backend][1])
        scratch = open_engine(url).url.set(database=database_name(request.node.name + "_new"))
        try:
            with pytest.raises(BackupFailed, match="interrupted after the restore"):
                restore_backup(f"file://{tmp_path}/b", manifest.backup_id, scratch, settings)
            assert not scratch_exists(scratch.render_as_string(hide_password=False))
        finally:
            server.drop_database(scratch.database or "")


def test_a_given_empty_scratch_is_emptied_again_not_dropped(any_url: str, scratch_url: str, tmp_path: Path) -> None:
    seed(any_url, rows=20)
    folder = tmp_path / "b"
    older = create_backup(any_url, None, [], f"file://{folder}")
    with open_engine(any_url).connect() as conn:
        conn.exec_driver_sql("DELETE FROM orders WHERE id > 5")
        conn.commit()
    newer = create_backup(any_url, None, [], f"file://{folder}")
    swap_artifact(folder, newer.backup_id, artifact_bytes(folder, older))
    with pytest.raises(VerificationFailed, match="table orders: 5 rows in the manifest, 20 restored"):
        restore_backup(f"file://{folder}", newer.backup_id, scratch_url)
    engine = open_engine(scratch_url)
    if engine.name == "sqlite":  # restore created this one (the fixture gives a path only): dropped
        assert not scratch_exists(scratch_url)
        return
    with engine.connect() as conn:
        assert engine.user_objects(conn) == []
