"""`dualpath apply/rollback` take a verified backup before destructive changes, or refuse."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from tests.integration.helpers import dialect_of, fingerprint, run_cli, status_json, write_config
from tests.unit.layouts import write_layout


def test_destructive_rollback_is_backed_up_first(any_url: str, tmp_path: Path) -> None:
    write_layout("flyway", tmp_path / "migrations", dialect_of(any_url))
    config = write_config(tmp_path, any_url)
    assert run_cli("apply", "--config", str(config), "--url", "db").exit_code == 0
    back = run_cli("rollback", "--config", str(config), "--url", "db", "--steps", "2")
    assert back.exit_code == 0, back.output
    assert "verified at file://" in back.output
    manifests = list((tmp_path / ".dualpath" / "backups").rglob("manifest.json"))
    assert manifests, "a manifest beside the backup"
    manifest = json.loads(manifests[0].read_text())
    assert "widgets" in " ".join(manifest["tables"])


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_backup_destination_refuses_and_changes_nothing(pg_url: str, tmp_path: Path) -> None:
    write_layout("flyway", tmp_path / "migrations", "postgresql")
    config = write_config(tmp_path, pg_url)
    assert run_cli("apply", "--config", str(config), "--url", "db").exit_code == 0
    text = config.read_text().replace("[targets.db]", f"""[backup]
destination = "s3://backups/dualpath"
[backup.s3]
endpoint_url = "http://127.0.0.1:{_closed_port()}"
access_key_id = "AKIAEXAMPLE"
secret_access_key = "Sup3rSecretKey"
max_attempts = 1
connect_timeout_s = 1
[targets.db]""")
    config.write_text(text)
    before = fingerprint(pg_url)
    refused = run_cli("rollback", "--config", str(config), "--url", "db", "--steps", "2")
    assert refused.exit_code == 3, refused.output
    assert "backup failed or could not be verified" in refused.output
    assert "Sup3rSecretKey" not in refused.output
    assert fingerprint(pg_url).digest == before.digest
    assert [s["state"] for s in status_json(config)] == ["applied", "applied"]
