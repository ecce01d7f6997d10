"""Shared steps for the apply/rollback integration tests: a project folder, a CLI runner."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner, Result

from dualpath.cli import app
from dualpath.engines import open_engine
from dualpath.engines.base import Fingerprint
from dualpath.urls import backend_of, parse_url


def dialect_of(url: str) -> str:
    return backend_of(parse_url(url))


def write_config(folder: Path, url: str, **safety: int) -> Path:
    """A dualpath.toml with one target 'db' and short timeouts so tests stay quick."""
    values = {"lock_timeout_ms": 300, "statement_timeout_ms": 60000, "lock_retries": 2, "retry_backoff_ms": 50}
    values.update(safety)
    lines = ['migrations = "migrations"', "[safety]"] + [f"{k} = {v}" for k, v in values.items()]
    lines += ["[targets.db]", f"url = {json.dumps(url)}"]
    path = folder / "dualpath.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def run_cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def fingerprint(url: str) -> Fingerprint:
    engine = open_engine(url)
    with engine.connect() as conn:
        return engine.fingerprint(conn)


def status_json(config: Path, migrations: Path | None = None) -> list[dict[str, object]]:
    extra = ["--migrations", str(migrations)] if migrations else []
    result = run_cli("status", "--config", str(config), "--url", "db", "--format", "json", *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)
