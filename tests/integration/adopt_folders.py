"""Small folders in the shapes the public projects use, for the adopt tests against real tools' history.

The history rows in real_tool_history.py were written by the real tools applying exactly these folders
(see that module's docstring); the adopt tests recreate those tables and rows and need no tool.
"""

from __future__ import annotations

from pathlib import Path

PLANNER = "Tester <tester@example.com>"


def _write(folder: Path, files: dict[str, str]) -> Path:
    for name, body in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    return folder


def write_sqitch(folder: Path, dialect: str, registry: str | None = None) -> Path:
    """sqitch-intro's shape: a change reworked after a tag, so its older scripts are ``add_price@v1``;
    ``registry`` names sqitch's registry in sqitch.conf (default: ``sqitch``)."""
    engine = "pg" if dialect == "postgresql" else "mysql"
    ints = "integer" if dialect == "postgresql" else "INT"
    conf = f"[core]\n\tengine = {engine}\n" + (f'[engine "{engine}"]\n\tregistry = {registry}\n' if registry else "")
    return _write(folder, {
        "sqitch.conf": conf,
        "sqitch.plan": (
            "%syntax-version=1.0.0\n%project=widgets\n%uri=https://example.com/widgets/\n\n"
            f"create_widgets 2024-01-01T00:00:00Z {PLANNER} # Create widgets.\n"
            f"add_price [create_widgets] 2024-01-02T00:00:00Z {PLANNER} # Add a price.\n"
            f"@v1 2024-01-03T00:00:00Z {PLANNER} # Tag v1.\n\n"
            f"add_price [add_price@v1] 2024-01-04T00:00:00Z {PLANNER} # Check the price.\n"),
        "deploy/create_widgets.sql": f"CREATE TABLE widgets (id {ints} PRIMARY KEY, name VARCHAR(100) NOT NULL);\n",
        "revert/create_widgets.sql": "DROP TABLE widgets;\n",
        "deploy/add_price@v1.sql": f"ALTER TABLE widgets ADD COLUMN price {ints} NOT NULL DEFAULT 0;\n",
        "revert/add_price@v1.sql": "ALTER TABLE widgets DROP COLUMN price;\n",
        "deploy/add_price.sql": "ALTER TABLE widgets ADD CONSTRAINT widgets_price_check CHECK (price >= 0);\n",
        "revert/add_price.sql": (
            "ALTER TABLE widgets DROP CONSTRAINT widgets_price_check;\n" if dialect == "postgresql"
            else "ALTER TABLE widgets DROP CHECK widgets_price_check;\n"),
    })


def write_liquibase(folder: Path, dialect: str) -> Path:
    """gha-cd-bagelstore-demo's shape: a root YAML changelog with a tagDatabase changeset of its own,
    including formatted SQL files from changesets/ (the folder dualpath reads)."""
    ints = "integer" if dialect == "postgresql" else "INT"
    return _write(folder, {
        "changelog-master.yaml": (
            "databaseChangeLog:\n"
            "  - changeSet:\n      id: baseline\n      author: demo\n"
            "      changes:\n        - tagDatabase:\n            tag: v0\n"
            "  - include:\n      file: changesets/001-create-widgets.sql\n      relativeToChangelogFile: true\n"
            "  - include:\n      file: changesets/002-add-price.sql\n      relativeToChangelogFile: true\n"),
        "changesets/001-create-widgets.sql": (
            "--liquibase formatted sql\n--changeset demo:001-create-widgets\n"
            f"CREATE TABLE widgets (id {ints} PRIMARY KEY, name VARCHAR(100) NOT NULL);\n"
            "--rollback DROP TABLE widgets;\n"),
        "changesets/002-add-price.sql": (
            "--liquibase formatted sql\n--changeset demo:002-add-price\n"
            f"ALTER TABLE widgets ADD COLUMN price {ints} NOT NULL DEFAULT 0;\n"
            "--rollback ALTER TABLE widgets DROP COLUMN price;\n"),
    })


def write_dbmate(folder: Path, dialect: str) -> Path:
    ints = "integer" if dialect == "postgresql" else "INT"
    return _write(folder, {
        "20240101120000_create_widgets.sql": (
            "-- migrate:up\n"
            f"CREATE TABLE widgets (id {ints} PRIMARY KEY, name VARCHAR(100) NOT NULL);\n\n"
            "-- migrate:down\nDROP TABLE widgets;\n"),
        "20240102120000_add_price.sql": (
            f"-- migrate:up\nALTER TABLE widgets ADD COLUMN price {ints} NOT NULL DEFAULT 0;\n\n"
            "-- migrate:down\nALTER TABLE widgets DROP COLUMN price;\n"),
    })
