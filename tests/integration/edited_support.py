"""A small Flyway project whose changes run on every engine, and ways to edit its state by hand."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from dualpath.urls import parse_url
from tests.integration.helpers import fingerprint, run_cli, write_config

CHANGES = {
    "1": ("widgets", "CREATE TABLE widgets (id INT PRIMARY KEY, name VARCHAR(50));\n", "DROP TABLE widgets;\n"),
    "2": ("gadgets", "CREATE TABLE gadgets (id INT PRIMARY KEY);\n", "DROP TABLE gadgets;\n"),
    "3": ("sprockets", "CREATE TABLE sprockets (id INT PRIMARY KEY);\n", "DROP TABLE sprockets;\n"),
}


def write_change(folder: Path, version: str, description: str, up: str, down: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"U{version}__{description}.sql").write_text(down)
    path = folder / f"V{version}__{description}.sql"
    path.write_text(up)
    return path


def project(tmp_path: Path, url: str, versions: tuple[str, ...] = ("1", "2", "3"), **config: str) -> Path:
    """Flyway files of ``versions`` in tmp_path/migrations and a dualpath.toml naming target 'db'."""
    for version in versions:
        write_change(tmp_path / "migrations", version, *CHANGES[version])
    path = write_config(tmp_path, url)
    if config:
        path.write_text(path.read_text() + "".join(f"{line}\n" for line in config.values()))
    return path


def cli(config: Path, *args: str) -> tuple[int, str]:
    result = run_cli(*args, "--config", str(config), "--url", "db")
    return result.exit_code, result.output


def execute(url: str, *statements: str) -> None:
    engine = create_engine(parse_url(url), poolclass=NullPool)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


def digest(url: str) -> str:
    """The schema of the target without dualpath's own tables: what a refusal must leave as it was."""
    fp = fingerprint(url)
    ours = {kind: sorted((name, repr(entry)) for name, entry in objects.items() if "dualpath" not in name)
            for kind, objects in fp.objects.items()}
    return repr(sorted(ours.items()))
