"""Reading migration files: every byte accounted for, links kept inside the folder, no special files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dualpath.config import Settings
from dualpath.errors import InputError
from dualpath.sources import detect_layout, read_changes
from dualpath.sources.files import iter_text, read_text
from dualpath.sql import split_statements
from tests.unit.layouts import KINDS, write_layout

# the file that holds the first change's forward SQL, per layout (see tests/unit/layouts.py)
FORWARD = {
    "flyway": "V1__create_widgets.sql",
    "diesel": "2024-01-01-120000_create_widgets/up.sql",
    "golang-migrate": "000001_create_widgets.up.sql",
    "dbmate": "20240101120000_create_widgets.sql",
    "liquibase": "changelog.sql",
    "sqitch": "deploy/create_widgets.sql",
}


def refused(folder: Path, **kwargs: object) -> InputError:
    with pytest.raises(InputError) as caught:
        read_changes(folder, dialect="postgresql", **kwargs)  # type: ignore[arg-type]
    return caught.value


# -- bytes ----------------------------------------------------------------------------------

def test_a_nul_byte_is_refused_naming_its_line(tmp_path: Path) -> None:
    file = tmp_path / "V1__x.sql"
    file.write_bytes(b"CREATE TABLE n (a int);\n\0\nCREATE TABLE y (a int);\nCREATE TABLE z (a int);\n")
    with pytest.raises(InputError) as caught:
        read_text(file)
    assert caught.value.where == f"{file}:2"
    assert "NUL" in caught.value.message


def test_utf16_is_refused_with_or_without_a_byte_order_mark(tmp_path: Path) -> None:
    for name, data in (("bom", "\ufeffSELECT 1;\n".encode("utf-16")),
                       ("nobom", "SELECT 1;\n".encode("utf-16-le"))):
        file = tmp_path / f"{name}.sql"
        file.write_bytes(data)
        with pytest.raises(InputError, match="UTF-16") as caught:
            read_text(file)
        assert caught.value.where == f"{file}:1"
        assert "UTF-8" in (caught.value.hint or "")


def test_invalid_utf8_names_its_line_even_across_read_chunks(tmp_path: Path) -> None:
    file = tmp_path / "x.sql"
    file.write_bytes(b"SELECT 1;\n" * 50 + b"SELECT '\xff';\n")
    for chunk in (3, 7, 1 << 20):
        with pytest.raises(InputError, match="not UTF-8") as caught:
            list(iter_text(file, chunk=chunk))
        assert caught.value.where == f"{file}:51"


def test_line_ends_and_bom_are_read_as_the_tools_read_them_whatever_the_chunk_size(tmp_path: Path) -> None:
    file = tmp_path / "x.sql"
    file.write_bytes(b"\xef\xbb\xbfSELECT 1;\r\nSELECT 2;\rSELECT 3;\n\r\n\xc3\xa9")
    for chunk in (1, 2, 3, 5, 1 << 20):
        assert "".join(iter_text(file, chunk=chunk)) == "SELECT 1;\nSELECT 2;\nSELECT 3;\n\né"


@pytest.mark.parametrize("char", ["\x01", "\x1b", "\x7f", "\x85", "\u00a0", "\u200b", "\u202e", "\u2028", "\ufeff"])
def test_invisible_characters_in_code_are_refused_not_taken_for_space(char: str) -> None:
    text = f"SELECT 1;\nCREATE TABLE a{char}b (x int);\n"
    with pytest.raises(InputError, match=f"U\\+{ord(char):04X}") as caught:
        split_statements(text, file="f.sql", dialect="postgresql")
    assert caught.value.where == "f.sql:2"


def test_control_characters_inside_strings_and_comments_are_data() -> None:
    text = "-- a\x1b[31m comment\nINSERT INTO t VALUES ('tab\there, escape \x1b, nbsp \u00a0');\n"
    [statement] = split_statements(text, file="f.sql", dialect="postgresql")
    assert "\x1b" in statement.text and "\u00a0" in statement.text


@pytest.mark.parametrize("kind", KINDS)
def test_a_nul_byte_in_any_layout_is_refused_before_anything_runs(kind: str, tmp_path: Path) -> None:
    folder = write_layout(kind, tmp_path / kind)
    forward = folder / FORWARD[kind]
    forward.write_bytes(forward.read_bytes().replace(b"CREATE TABLE", b"\0CREATE TABLE", 1))
    error = refused(folder)
    assert error.where and error.where.startswith(str(forward) + ":")


# -- links and special files ------------------------------------------------------------------

def _secret(tmp_path: Path) -> Path:
    secret = tmp_path / "outside" / "secret.sql"
    secret.parent.mkdir(parents=True, exist_ok=True)
    secret.write_text("SELECT 'host secret';\n")
    return secret


@pytest.mark.parametrize("kind", KINDS)
def test_a_link_to_a_file_outside_the_folder_is_refused_naming_the_link(kind: str, tmp_path: Path) -> None:
    folder = write_layout(kind, tmp_path / kind)
    forward = folder / FORWARD[kind]
    forward.unlink()
    forward.symlink_to(_secret(tmp_path))
    error = refused(folder)
    assert error.where == f"{forward}:1"
    assert "outside the migrations folder" in error.message
    assert "follow_links_outside" in (error.hint or "")
    assert "host secret" not in str(error)


@pytest.mark.parametrize("kind", KINDS)
def test_the_setting_allows_links_outside(kind: str, tmp_path: Path) -> None:
    folder = write_layout(kind, tmp_path / kind)
    forward = folder / FORWARD[kind]
    outside = tmp_path / "outside" / forward.name
    outside.parent.mkdir(parents=True, exist_ok=True)
    outside.write_bytes(forward.read_bytes())
    forward.unlink()
    forward.symlink_to(outside)
    assert len(read_changes(folder, dialect="postgresql", follow_links_outside=True)) == 2


@pytest.mark.parametrize("kind", KINDS)
def test_links_inside_the_folder_are_read(kind: str, tmp_path: Path) -> None:
    folder = write_layout(kind, tmp_path / kind)
    forward = folder / FORWARD[kind]
    real = forward.with_name(".real-" + forward.name)  # hidden: not a migration of its own
    forward.rename(real)
    forward.symlink_to(real.name)
    assert len(read_changes(folder, dialect="postgresql")) == 2


@pytest.mark.parametrize("target", ["/dev/zero", "fifo", "loop", "dangling"])
@pytest.mark.parametrize("kind", KINDS)
def test_links_to_devices_fifos_loops_and_nothing_are_refused(kind: str, target: str, tmp_path: Path) -> None:
    folder = write_layout(kind, tmp_path / kind)
    forward = folder / FORWARD[kind]
    forward.unlink()
    if target == "fifo":
        os.mkfifo(forward)  # a FIFO in the folder itself: opening it must not wait for a writer
    elif target == "loop":
        forward.symlink_to(forward.name)
    elif target == "dangling":
        forward.symlink_to("missing.sql")
    else:
        forward.symlink_to(target)
    error = refused(folder, follow_links_outside=True)  # even when links may leave the folder
    assert error.where == f"{forward}:1"


def test_a_linked_folder_outside_is_refused_diesel(tmp_path: Path) -> None:
    folder = write_layout("diesel", tmp_path / "diesel")
    change = folder / "2024-01-01-120000_create_widgets"
    change.rename(tmp_path / "elsewhere")
    change.symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    assert refused(folder).where == f"{change}:1"
    assert len(read_changes(folder, dialect="postgresql", follow_links_outside=True)) == 2


def test_flyway_reads_linked_subfolders_inside_once_and_refuses_those_outside(tmp_path: Path) -> None:
    folder = write_layout("flyway", tmp_path / "flyway")
    sub = folder / "sub"
    sub.mkdir()
    (folder / "V2__add_widget_price.sql").rename(sub / "V2__add_widget_price.sql")
    (folder / "again").symlink_to("sub", target_is_directory=True)  # the same folder twice
    (sub / "up").symlink_to("..", target_is_directory=True)  # a loop
    assert [c.version for c in read_changes(folder, dialect="postgresql")] == ["1", "2"]
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "V3__x.sql").write_text("SELECT 1;")
    (folder / "out").symlink_to(outside, target_is_directory=True)
    assert refused(folder).where == f"{folder / 'out'}:1"


def test_sqitch_plan_and_script_folders_as_links(tmp_path: Path) -> None:
    folder = write_layout("sqitch", tmp_path / "sqitch")
    (folder / "sqitch.plan").rename(tmp_path / "sqitch.plan")
    (folder / "sqitch.plan").symlink_to(tmp_path / "sqitch.plan")
    assert refused(folder).where == f"{folder / 'sqitch.plan'}:1"
    with pytest.raises(InputError):
        detect_layout(folder)  # even detection does not open it
    (folder / "sqitch.plan").unlink()
    (tmp_path / "sqitch.plan").rename(folder / "sqitch.plan")
    (folder / "verify").rename(tmp_path / "verify")
    (folder / "verify").symlink_to(tmp_path / "verify", target_is_directory=True)
    error = refused(folder)
    assert error.where == f"{folder / 'verify'}:1"


def test_follow_links_outside_is_a_setting_off_by_default() -> None:
    assert Settings().sources.follow_links_outside is False
    assert Settings.model_validate({"sources": {"follow_links_outside": True}}).sources.follow_links_outside
