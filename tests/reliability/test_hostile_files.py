"""Hostile migration folders: every byte, encoding, link and file-type oddity, in every layout.

Each oddity is either read as the layout's own tool reads it (and then applies cleanly) or refused
with exit 2, naming file:line, with a ``next:`` line and no traceback, before the database is
touched: its fingerprint is unchanged and no history table or row appears. The oddity sits in the
second change, so a refusal that came half-way would show the first change applied.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.helpers import dialect_of, fingerprint, run_cli
from tests.unit.layouts import KINDS, write_layout

# the file holding the second change's forward SQL, per layout (see tests/unit/layouts.py)
SECOND = {
    "flyway": "V2__add_widget_price.sql",
    "diesel": "20240102120000_add_widget_price/up.sql",
    "golang-migrate": "000002_add_widget_price.up.sql",
    "dbmate": "20240102120000_add_widget_price.sql",
    "liquibase": "changelog.sql",
    "sqitch": "deploy/add_widget_price.sql",
}
ANCHOR = b"ALTER TABLE widgets ADD"  # the second change's first statement, in every layout and dialect

Mutation = Callable[[Path, Path], None]  # (file to spoil, scratch folder outside the migrations)


def _insert(raw: bytes, before_anchor: bool = True) -> Mutation:
    def spoil(file: Path, outside: Path) -> None:
        data = file.read_bytes()
        assert ANCHOR in data
        file.write_bytes(data.replace(ANCHOR, raw + ANCHOR, 1) if before_anchor else data + raw)
    return spoil


def _reencode(codec: str) -> Mutation:
    def spoil(file: Path, outside: Path) -> None:
        file.write_bytes(file.read_text(encoding="utf-8").encode(codec))
    return spoil


def _link_to(target: Callable[[Path, Path], Path]) -> Mutation:
    def spoil(file: Path, outside: Path) -> None:
        goal = target(file, outside)
        file.unlink()
        file.symlink_to(goal)
    return spoil


def _copy_outside(file: Path, outside: Path) -> Path:
    copy = outside / ("copy-" + file.name)
    copy.write_bytes(file.read_bytes())
    return copy


def _fifo(file: Path, outside: Path) -> None:
    file.unlink()
    os.mkfifo(file)


REFUSED: dict[str, Mutation] = {
    "nul byte": _insert(b"\0\n"),
    "utf-16 with bom": _reencode("utf-16"),
    "utf-16 without bom": _reencode("utf-16-le"),
    "utf-32": _reencode("utf-32"),
    "invalid utf-8": _insert(b"-- caf\xe9\n"),
    "escape character in code": _insert(b"\x1b"),
    "zero-width space in code": _insert("\u200b".encode()),
    "no-break space in code": _insert("\u00a0".encode()),
    "bidi override in code": _insert("\u202e".encode()),
    "byte-order mark mid-file": _insert(b"SELECT 1;\n\xef\xbb\xbf"),
    "unterminated string at end": _insert(b"\nSELECT 'open", before_anchor=False),
    "unterminated block comment at end": _insert(b"\n/* open", before_anchor=False),
    "link to a file outside": _link_to(_copy_outside),
    "link to /etc/passwd": _link_to(lambda file, outside: Path("/etc/passwd")),
    "link to /dev/zero": _link_to(lambda file, outside: Path("/dev/zero")),
    "link loop": _link_to(lambda file, outside: file),
    "dangling link": _link_to(lambda file, outside: outside / "gone.sql"),
    "fifo": _fifo,
}
READ_AS_WRITTEN: dict[str, Mutation] = {
    "crlf line ends": lambda file, outside: file.write_bytes(file.read_bytes().replace(b"\n", b"\r\n")),
    "lone cr line ends": lambda file, outside: file.write_bytes(file.read_bytes().replace(b"\n", b"\r")),
    "utf-8 byte-order mark": lambda file, outside: file.write_bytes(b"\xef\xbb\xbf" + file.read_bytes()),
    "control characters in a string and a comment": _insert("SELECT 'a\x1b\u00a0b'; -- \x07\u200b\n".encode()),
    "link inside the folder": lambda file, outside: (file.rename(file.with_name(".real")),
                                                     file.symlink_to(".real")) and None,
}


def _history_tables(url: str) -> list[str]:
    from sqlalchemy import inspect

    from dualpath.engines import open_engine

    engine = open_engine(url)
    with engine.connect() as conn:
        return [t for t in inspect(conn).get_table_names() if t.startswith("dualpath")]


def _apply(folder: Path, url: str) -> tuple[int, str]:
    result = run_cli("apply", "--url", url, "--migrations", str(folder))
    return result.exit_code, result.output


def _check_refused(folder: Path, url: str, names: str) -> None:
    before = fingerprint(url)
    code, output = _apply(folder, url)
    assert code == 2, output
    assert names in output and "next:" in output and "Traceback" not in output, output
    assert fingerprint(url) == before, "a refused folder touched the database"
    assert not _history_tables(url), "a refused folder created history tables"
    dry = run_cli("apply", "--url", url, "--migrations", str(folder), "--dry-run")
    assert dry.exit_code == 2 and "Traceback" not in dry.output
    assert run_cli("detect", "--migrations", str(folder)).exit_code == 2


@pytest.mark.parametrize("oddity", list(REFUSED))
@pytest.mark.parametrize("kind", KINDS)
def test_hostile_file_is_refused_before_the_database_is_touched(kind: str, oddity: str, pg_url: str,
                                                                 tmp_path: Path) -> None:
    folder = write_layout(kind, tmp_path / "migrations", "postgresql")
    outside = tmp_path / "outside"
    outside.mkdir()
    file = folder / SECOND[kind]
    REFUSED[oddity](file, outside)
    _check_refused(folder, pg_url, f"{file}:")


@pytest.mark.parametrize("kind", KINDS)
def test_a_nul_byte_is_refused_on_every_dialect(kind: str, any_url: str, tmp_path: Path) -> None:
    folder = write_layout(kind, tmp_path / "migrations", dialect_of(any_url))
    file = folder / SECOND[kind]
    REFUSED["nul byte"](file, tmp_path)
    _check_refused(folder, any_url, f"{file}:")


@pytest.mark.parametrize("oddity", list(READ_AS_WRITTEN))
@pytest.mark.parametrize("kind", KINDS)
def test_oddities_the_tools_accept_are_read_and_applied(kind: str, oddity: str, pg_url: str, tmp_path: Path) -> None:
    folder = write_layout(kind, tmp_path / "migrations", "postgresql")
    READ_AS_WRITTEN[oddity](folder / SECOND[kind], tmp_path)
    code, output = _apply(folder, pg_url)
    assert code == 0, output


FOLDER_LINKS = {  # (layout, what is replaced by a link to a copy outside the migrations folder)
    ("diesel", "20240102120000_add_widget_price"),
    ("flyway", "sub"),
    ("sqitch", "deploy"),
    ("sqitch", "revert"),
    ("sqitch", "verify"),
    ("sqitch", "sqitch.plan"),
}


@pytest.mark.parametrize(("kind", "entry"), sorted(FOLDER_LINKS))
def test_linked_folders_and_plans_outside_are_refused(kind: str, entry: str, pg_url: str, tmp_path: Path) -> None:
    folder = write_layout(kind, tmp_path / "migrations", "postgresql")
    if entry == "sub":  # Flyway reads subfolders: move change 2 into one
        (folder / "sub").mkdir()
        for name in ("V2__add_widget_price.sql", "U2__add_widget_price.sql"):
            (folder / name).rename(folder / "sub" / name)
    moved = tmp_path / "outside" / entry
    moved.parent.mkdir()
    (folder / entry).rename(moved)
    (folder / entry).symlink_to(moved, target_is_directory=moved.is_dir())
    _check_refused(folder, pg_url, f"{folder / entry}:")
    config = tmp_path / "dualpath.toml"
    config.write_text("[sources]\nfollow_links_outside = true\n")
    result = run_cli("apply", "--config", str(config), "--url", pg_url, "--migrations", str(folder))
    assert result.exit_code == 0, result.output
