"""S3 down, hung or failing while `dualpath apply` backs up before a destructive change.

Every failure must refuse the change (exit 3) with the database untouched (fingerprint and row
checksums), name the destination without secrets, say what to do next, stay within the configured
timeouts, and leave nothing that `dualpath backup list` would offer as a usable backup. Transient
errors within the retry budget must not stop the run at all.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from dualpath.engines import open_engine
from tests.integration.helpers import run_cli, status_json, write_config
from tests.reliability.server_support import (
    FaultyS3,
    Ran,
    assert_no_crash,
    blackhole,
    bucket_keys,
    create_bucket,
    database_state,
    free_port,
    moto_server,
    run_dualpath,
)

S3_SECRET = "s3-SECRET-" + secrets.token_hex(6)
DB_PASSWORD = "db-pw-" + secrets.token_hex(6)
ROWS = 300


@pytest.fixture(scope="module")
def moto() -> Iterator[str]:
    with moto_server() as endpoint:
        yield endpoint


@pytest.fixture
def bucket(moto: str) -> str:
    name = f"dp-faults-{secrets.token_hex(4)}"
    create_bucket(moto, name)
    return name


def project(folder: Path, url: str) -> Path:
    """Change 1 creates and fills ``orders``; change 2 drops a column (destructive: needs a backup)."""
    migrations = folder / "migrations"
    migrations.mkdir()
    (migrations / "V1__create_orders.sql").write_text(
        "CREATE TABLE orders (id INTEGER PRIMARY KEY, note VARCHAR(200));\n"
        + "".join(f"INSERT INTO orders (id, note) VALUES ({i}, 'note {i} {'x' * (i % 50)}');\n"
                  for i in range(1, ROWS + 1)))
    (migrations / "U1__create_orders.sql").write_text("DROP TABLE orders;\n")
    (migrations / "V2__drop_note.sql").write_text("ALTER TABLE orders DROP COLUMN note;\n")
    (migrations / "U2__drop_note.sql").write_text("ALTER TABLE orders ADD COLUMN note VARCHAR(200);\n")
    # a password in the target URL: the local server trusts loopback and ignores it
    config = write_config(folder, url.replace("://postgres@", f"://postgres:{DB_PASSWORD}@", 1))
    first = run_cli("apply", "--config", str(config), "--url", "db", "--to", "1")
    assert first.exit_code == 0, first.output
    return config


def with_s3(config: Path, bucket: str, endpoint: str, **s3: object) -> str:
    """Point [backup] at s3://bucket/prod through ``endpoint``; returns the destination."""
    dest = f"s3://{bucket}/prod"
    values = {"endpoint_url": endpoint, "region": "us-east-1", "access_key_id": "testing",
              "secret_access_key": S3_SECRET, "max_attempts": 3, "connect_timeout_s": 1, "read_timeout_s": 5}
    values.update(s3)
    lines = "\n".join(f"{k} = {json.dumps(v)}" for k, v in values.items())
    text = config.read_text()
    head = text.split("[backup]", 1)[0].split("[targets.db]", 1)[0]
    target = text.split("[targets.db]", 1)[1]
    config.write_text(f"{head}[backup]\ndestination = \"{dest}\"\n[backup.s3]\n{lines}\n[targets.db]{target}")
    return dest


def apply(config: Path) -> Ran:
    return run_dualpath("apply", "--config", str(config), "--url", "db", cwd=config.parent, timeout=120)


def assert_refused(ran: Ran, dest: str, config: Path, url: str, before: tuple[str, dict[str, str]]) -> None:
    """Refused before anything ran, said so clearly, and left no usable backup behind."""
    assert_no_crash(ran)
    assert ran.code == 3, ran.output
    assert "change(s) 2 not run" in ran.output and "backup failed or could not be verified" in ran.output
    assert dest in ran.output, ran.output  # names the destination ...
    assert "next:" in ran.output  # ... and what to do
    assert S3_SECRET not in ran.output and DB_PASSWORD not in ran.output
    assert database_state(url) == before
    assert [s["state"] for s in status_json(config)] == ["applied", "pending"]


def listed_backups(config: Path, endpoint: str, bucket: str) -> list[dict[str, object]]:
    """What `dualpath backup list` offers, read straight from moto (the faulty front may be gone)."""
    with_s3(config, bucket, endpoint)
    listed = run_cli("backup", "list", "--config", str(config), "--json")
    assert listed.exit_code == 0, listed.output
    return list(json.loads(listed.stdout))


# -- nobody there, or nobody answering -------------------------------------------------------


def test_nothing_listening_refuses_the_drop(pg_url: str, tmp_path: Path) -> None:
    config = project(tmp_path, pg_url)
    dest = with_s3(config, "dp-nowhere", f"http://127.0.0.1:{free_port()}")
    before = database_state(pg_url)
    ran = apply(config)
    assert_refused(ran, dest, config, pg_url, before)
    assert "cannot reach S3 at http://127.0.0.1:" in ran.output  # a hang instead fails run_dualpath's timeout


def test_hung_endpoint_gives_up_after_the_read_timeout(pg_url: str, tmp_path: Path) -> None:
    config = project(tmp_path, pg_url)
    with blackhole() as endpoint:
        dest = with_s3(config, "dp-hung", endpoint, read_timeout_s=1, max_attempts=2)
        before = database_state(pg_url)
        ran = apply(config)
    assert_refused(ran, dest, config, pg_url, before)
    # it gave up by its read timeout and attempt count (the message says so); a hang fails run_dualpath's timeout
    assert "did not answer within 1 s (2 attempt(s))" in ran.output


# -- S3 answering with errors ----------------------------------------------------------------


def test_every_request_failing_refuses_after_bounded_retries(pg_url: str, tmp_path: Path, moto: str,
                                                             bucket: str) -> None:
    config = project(tmp_path, pg_url)
    faulty = FaultyS3(moto, lambda method, path, n: True, status=500, code="InternalError")
    with faulty.serve() as front:
        dest = with_s3(config, bucket, front)
        before = database_state(pg_url)
        ran = apply(config)
    assert_refused(ran, dest, config, pg_url, before)
    assert "failed (500)" in ran.output or "InternalError" in ran.output, ran.output
    # the reachability check gives up after max_attempts = 3 requests: bounded, and nothing was uploaded
    assert [m for m, _, _ in faulty.seen] == ["HEAD"] * 3
    assert bucket_keys(moto, bucket) == []


def test_every_upload_throttled_leaves_no_backup(pg_url: str, tmp_path: Path, moto: str, bucket: str) -> None:
    config = project(tmp_path, pg_url)
    faulty = FaultyS3(moto, lambda method, path, n: method in ("PUT", "POST"), status=503, code="SlowDown")
    with faulty.serve() as front:
        dest = with_s3(config, bucket, front)
        before = database_state(pg_url)
        ran = apply(config)
    assert_refused(ran, dest, config, pg_url, before)
    assert "SlowDown" in ran.output, ran.output
    assert sum(1 for m, _, s in faulty.seen if m == "PUT" and s == 503) == 3  # max_attempts, then give up
    assert bucket_keys(moto, bucket) == []
    assert listed_backups(config, moto, bucket) == []


def test_failed_manifest_upload_removes_the_artifact_too(pg_url: str, tmp_path: Path, moto: str,
                                                         bucket: str) -> None:
    config = project(tmp_path, pg_url)
    faulty = FaultyS3(moto, lambda method, path, n: method == "PUT" and path.split("?")[0].endswith("manifest.json"),
                      status=500, code="InternalError")
    with faulty.serve() as front:
        dest = with_s3(config, bucket, front)
        before = database_state(pg_url)
        ran = apply(config)
    assert_refused(ran, dest, config, pg_url, before)
    uploaded = [p for m, p, s in faulty.seen if m == "PUT" and s == 0]
    assert any(p.split("?")[0].endswith(".dump") for p in uploaded), faulty.seen  # the artifact did go up ...
    assert bucket_keys(moto, bucket) == []  # ... and was removed with the backup that never completed
    assert listed_backups(config, moto, bucket) == []


def test_transient_errors_within_the_retry_budget_recover(pg_url: str, tmp_path: Path, moto: str,
                                                          bucket: str) -> None:
    config = project(tmp_path, pg_url)
    failing_puts: list[str] = []

    def first_two_and_each_first_put(method: str, path: str, n: int) -> bool:
        if n <= 2:
            return True  # the reachability check: two 503s, the third attempt passes
        if method == "PUT" and path not in failing_puts:
            failing_puts.append(path)  # every upload fails once, then goes through
            return True
        return False

    faulty = FaultyS3(moto, first_two_and_each_first_put, status=503, code="SlowDown")
    with faulty.serve() as front:
        with_s3(config, bucket, front)
        ran = apply(config)
    assert_no_crash(ran)
    assert ran.code == 0, ran.output
    assert faulty.answered(503) == 2 + len(failing_puts) and len(failing_puts) == 2  # artifact and manifest
    assert [s["state"] for s in status_json(config)] == ["applied", "applied"]
    backups = listed_backups(config, moto, bucket)
    assert len(backups) == 1 and backups[0]["row_counts"] == {"orders": ROWS}
    verified = run_cli("backup", "verify", "--config", str(config), "--id", str(backups[0]["backup_id"]))
    assert verified.exit_code == 0, verified.output


def test_backup_that_fails_verification_is_not_left_listed(pg_url: str, tmp_path: Path, moto: str,
                                                           bucket: str) -> None:
    """Uploads succeed, but reading the artifact back returns other bytes (one flipped): unproven, so gone."""
    config = project(tmp_path, pg_url)

    def flip_a_byte(method: str, path: str, body: bytes) -> bytes:
        if method != "GET" or not path.split("?")[0].endswith(".dump") or not body:
            return body
        return body[:-1] + bytes([body[-1] ^ 0xFF])

    faulty = FaultyS3(moto, lambda method, path, n: False, mangle=flip_a_byte)
    with faulty.serve() as front:
        dest = with_s3(config, bucket, front)
        before = database_state(pg_url)
        ran = apply(config)
    assert_refused(ran, dest, config, pg_url, before)
    assert any(m == "GET" and p.split("?")[0].endswith(".dump") for m, p, _ in faulty.seen), faulty.seen
    assert bucket_keys(moto, bucket) == []  # manifest and artifact both removed
    assert listed_backups(config, moto, bucket) == []


def test_failed_multipart_upload_is_aborted(sqlite_url: str, tmp_path: Path, moto: str, bucket: str) -> None:
    """A ~6.5 MB artifact goes up in 5 MB parts; every part upload fails: the multipart upload is aborted,
    so no invisible, billable half-upload stays in the bucket either."""
    config = project(tmp_path, sqlite_url)
    with open_engine(sqlite_url).connect() as conn:
        conn.exec_driver_sql("CREATE TABLE blobs (id INTEGER PRIMARY KEY, data BLOB)")
        conn.exec_driver_sql("INSERT INTO blobs (id, data) VALUES (?, ?)",
                             [(i, os.urandom(64 * 1024)) for i in range(100)])  # incompressible
        conn.commit()
    faulty = FaultyS3(moto, lambda method, path, n: method == "PUT" and "partNumber=" in path,
                      status=500, code="InternalError")
    with faulty.serve() as front:
        dest = with_s3(config, bucket, front, multipart_threshold_mb=5, multipart_chunk_mb=5)
        before = database_state(sqlite_url)
        ran = apply(config)
    assert_refused(ran, dest, config, sqlite_url, before)
    assert any(m == "POST" and "uploads" in p for m, p, _ in faulty.seen), "no multipart upload was started"
    assert any(m == "DELETE" and "uploadId=" in p for m, p, _ in faulty.seen), "the multipart upload was not aborted"
    assert bucket_keys(moto, bucket) == [] and multipart_uploads(moto, bucket) == []
    assert listed_backups(config, moto, bucket) == []


def multipart_uploads(endpoint: str, bucket: str) -> list[str]:
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")
    return [u["Key"] for u in client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]
