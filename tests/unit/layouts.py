"""Write small, valid example projects of each migration layout, for any test to reuse.

``write_layout(kind, folder, dialect)`` writes two changes: (1) create table ``widgets``
with an index, (2) add column ``price`` with a default and a check constraint. Each has
a rollback that restores the schema exactly, in SQL valid on the given dialect.
"""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

KINDS = ("flyway", "diesel", "golang-migrate", "dbmate", "liquibase", "sqitch")
DIALECTS = ("postgresql", "mysql", "sqlite")

# versions read_changes reports for the two changes of each layout
VERSIONS = {
    "flyway": ["1", "2"],
    "diesel": ["20240101120000", "20240102120000"],
    "golang-migrate": ["000001", "000002"],
    "dbmate": ["20240101120000", "20240102120000"],
    "liquibase": ["1.1", "1.2"],
    "sqitch": ["1", "2"],
}

_CREATE = {
    "postgresql": "CREATE TABLE widgets (\n    id integer PRIMARY KEY,\n    name varchar(100) NOT NULL\n);",
    "mysql": "CREATE TABLE widgets (\n    id INT PRIMARY KEY,\n    name VARCHAR(100) NOT NULL\n);",
    "sqlite": "CREATE TABLE widgets (\n    id INTEGER PRIMARY KEY,\n    name VARCHAR(100) NOT NULL\n);",
}
_INDEX = "CREATE INDEX widgets_name_idx ON widgets (name);"
_DROP = "DROP TABLE widgets;"  # drops its index too, on every dialect

_ADD = {
    "postgresql": [
        "ALTER TABLE widgets ADD COLUMN price integer NOT NULL DEFAULT 0;",
        "ALTER TABLE widgets ADD CONSTRAINT widgets_price_check CHECK (price >= 0);",
    ],
    "mysql": [
        "ALTER TABLE widgets ADD COLUMN price INT NOT NULL DEFAULT 0;",
        "ALTER TABLE widgets ADD CONSTRAINT widgets_price_check CHECK (price >= 0);",
    ],
    # SQLite cannot add a table constraint later; a column constraint goes with ADD COLUMN
    "sqlite": [
        "ALTER TABLE widgets ADD COLUMN price INTEGER NOT NULL DEFAULT 0 "
        "CONSTRAINT widgets_price_check CHECK (price >= 0);",
    ],
}
_REMOVE = {
    "postgresql": [
        "ALTER TABLE widgets DROP CONSTRAINT widgets_price_check;",
        "ALTER TABLE widgets DROP COLUMN price;",
    ],
    "mysql": [
        "ALTER TABLE widgets DROP CONSTRAINT widgets_price_check;",
        "ALTER TABLE widgets DROP COLUMN price;",
    ],
    "sqlite": ["ALTER TABLE widgets DROP COLUMN price;"],
}
_SQITCH_ENGINE = {"postgresql": "pg", "mysql": "mysql", "sqlite": "sqlite"}


def change_sql(dialect: str) -> list[tuple[str, str]]:
    """(forward, rollback) SQL text of the two example changes."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}; use one of {DIALECTS}")
    return [
        (f"{_CREATE[dialect]}\n{_INDEX}\n", f"{_DROP}\n"),
        ("\n".join(_ADD[dialect]) + "\n", "\n".join(_REMOVE[dialect]) + "\n"),
    ]


def write_layout(kind: str, folder: Path, dialect: str = "postgresql") -> Path:
    """Write the two-change example project of ``kind`` into ``folder``; return the folder."""
    writers = {"flyway": _flyway, "diesel": _diesel, "golang-migrate": _golang_migrate,
               "dbmate": _dbmate, "liquibase": _liquibase, "sqitch": _sqitch}
    if kind not in writers:
        raise ValueError(f"unknown layout {kind!r}; use one of {KINDS}")
    folder.mkdir(parents=True, exist_ok=True)
    writers[kind](folder, change_sql(dialect), dialect)
    return folder


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


Pairs = list[tuple[str, str]]


def _flyway(folder: Path, sql: Pairs, dialect: str) -> None:
    for n, name, (up, down) in zip((1, 2), ("create_widgets", "add_widget_price"), sql, strict=True):
        _write(folder / f"V{n}__{name}.sql", up)
        _write(folder / f"U{n}__{name}.sql", down)


def _diesel(folder: Path, sql: Pairs, dialect: str) -> None:
    # both version spellings diesel has used, as real folders mix them
    names = ("2024-01-01-120000_create_widgets", "20240102120000_add_widget_price")
    for name, (up, down) in zip(names, sql, strict=True):
        _write(folder / name / "up.sql", up)
        _write(folder / name / "down.sql", down)


def _golang_migrate(folder: Path, sql: Pairs, dialect: str) -> None:
    for n, name, (up, down) in zip((1, 2), ("create_widgets", "add_widget_price"), sql, strict=True):
        _write(folder / f"{n:06d}_{name}.up.sql", up)
        _write(folder / f"{n:06d}_{name}.down.sql", down)


def _dbmate(folder: Path, sql: Pairs, dialect: str) -> None:
    names = ("20240101120000_create_widgets", "20240102120000_add_widget_price")
    for name, (up, down) in zip(names, sql, strict=True):
        _write(folder / f"{name}.sql", f"-- migrate:up\n{up}\n-- migrate:down\n{down}")


def _liquibase(folder: Path, sql: Pairs, dialect: str) -> None:
    blocks = ["--liquibase formatted sql\n"]
    for cs_id, comment, (up, down) in zip(("create-widgets", "add-widget-price"),
                                          ("create widgets", "add widget price"), sql, strict=True):
        rollback = "".join(f"--rollback {line}\n" for line in down.splitlines())
        blocks.append(f"--changeset example:{cs_id}\n--comment: {comment}\n{up}{rollback}")
    _write(folder / "changelog.sql", "\n".join(blocks))


def _sqitch(folder: Path, sql: Pairs, dialect: str) -> None:
    _write(folder / "sqitch.conf", f"[core]\n\tengine = {_SQITCH_ENGINE[dialect]}\n")
    _write(folder / "sqitch.plan", dedent("""\
        %syntax-version=1.0.0
        %project=widgets

        create_widgets 2024-01-01T12:00:00Z Example <example@example.com> # Create widgets
        add_widget_price [create_widgets] 2024-01-02T12:00:00Z Example <example@example.com> # Add price
        """))
    verify = ["SELECT id, name FROM widgets WHERE 1 = 0;\n", "SELECT price FROM widgets WHERE 1 = 0;\n"]
    for name, (up, down), check in zip(("create_widgets", "add_widget_price"), sql, verify, strict=True):
        # sqitch's templates wrap each script in a transaction; dualpath drops that wrapper
        _write(folder / "deploy" / f"{name}.sql", f"-- Deploy widgets:{name}\n\nBEGIN;\n\n{up}\nCOMMIT;\n")
        _write(folder / "revert" / f"{name}.sql", f"-- Revert widgets:{name}\n\nBEGIN;\n\n{down}\nCOMMIT;\n")
        _write(folder / "verify" / f"{name}.sql", f"-- Verify widgets:{name}\n\nBEGIN;\n\n{check}\nROLLBACK;\n")
