"""The migrations folder kept between runs (dualpath/changes_cache.py): what comes back is what reading
returns, and any change to a file, a setting or the folder reads it again."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dualpath.changes import Change
from dualpath.changes_cache import cached_read
from dualpath.errors import InputError
from dualpath.sources import detect_layout, read_changes
from tests.unit.layouts import DIALECTS, KINDS, write_layout

SETTINGS = {"dialect": "postgresql", "links": False, "missing": "refuse", "placeholders": True}


class Reads:
    """A reader that counts how often the folder was really read."""

    def __init__(self, folder: Path, dialect: str = "postgresql", placeholders: dict[str, str] | None = None,
                 missing: str = "refuse") -> None:
        self.folder, self.dialect, self.placeholders, self.missing = folder, dialect, placeholders, missing
        self.count = 0

    def __call__(self) -> tuple[str, list[Change]]:
        self.count += 1
        layout = detect_layout(self.folder)
        return layout, read_changes(self.folder, dialect=self.dialect, layout=layout, placeholders=self.placeholders,
                                    missing_rollbacks=self.missing)  # type: ignore[arg-type]

    def cached(self, cache: Path, **settings: object) -> tuple[str, list[Change]]:
        return cached_read(self.folder, cache, {**SETTINGS, "dialect": self.dialect, **settings}, self.placeholders,
                           self)


def same(a: list[Change], b: list[Change]) -> bool:
    """Equal as dataclasses, and in what equality leaves out (extra, checksum, each statement's place)."""
    return a == b and all(x.extra == y.extra and x.checksum == y.checksum and x.where == y.where
                          and [s.where for s in x.forward] == [s.where for s in y.forward]
                          for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("kind", KINDS)
def test_every_layout_comes_back_from_the_cache_as_it_was_read(tmp_path: Path, kind: str, dialect: str) -> None:
    folder = write_layout(kind, tmp_path / "migrations", dialect)
    reads = Reads(folder, dialect)
    first = reads.cached(tmp_path / "cache")
    second = reads.cached(tmp_path / "cache")
    assert reads.count == 1, "the second run read the folder again"
    assert second[0] == first[0] == kind
    assert same(second[1], first[1]) and same(second[1], reads()[1])


def flyway(folder: Path, up: str = "CREATE TABLE t (id INT);\n") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "V1__t.sql").write_text(up)
    (folder / "U1__t.sql").write_text("DROP TABLE t;\n")
    return folder


def test_an_edit_that_keeps_size_and_time_is_read_again(tmp_path: Path) -> None:
    """Keyed by content: an edit within the clock's resolution, or one that restores the time, counts."""
    folder = flyway(tmp_path / "m")
    reads = Reads(folder)
    reads.cached(tmp_path / "cache")
    path = folder / "V1__t.sql"
    info = path.stat()
    path.write_text("CREATE TABLE u (id INT);\n")
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns))
    layout, changes = reads.cached(tmp_path / "cache")
    assert reads.count == 2 and changes[0].forward[0].text == "CREATE TABLE u (id INT)"


def test_a_file_added_or_removed_is_read_again(tmp_path: Path) -> None:
    folder = flyway(tmp_path / "m")
    reads = Reads(folder)
    reads.cached(tmp_path / "cache")
    (folder / "V2__u.sql").write_text("CREATE TABLE u (id INT);\n")
    (folder / "U2__u.sql").write_text("DROP TABLE u;\n")
    assert [c.version for c in reads.cached(tmp_path / "cache")[1]] == ["1", "2"]
    (folder / "V2__u.sql").unlink()
    (folder / "U2__u.sql").unlink()
    assert [c.version for c in reads.cached(tmp_path / "cache")[1]] == ["1"]
    assert reads.count == 3


def test_a_setting_reading_depends_on_is_part_of_the_key(tmp_path: Path) -> None:
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "V1__t.sql").write_text("CREATE TABLE t (id INT);\n")  # no rollback file
    refused = Reads(folder)
    with pytest.raises(InputError):
        refused.cached(tmp_path / "cache")
    allowed = Reads(folder, missing="allow")
    assert allowed.cached(tmp_path / "cache", missing="allow")[1][0].rollback == ()
    with pytest.raises(InputError):  # the allowed read is not served to a run that refuses
        refused.cached(tmp_path / "cache")
    assert refused.count == 2


def test_flyway_placeholders_keep_a_folder_out_of_the_cache_only_where_a_file_uses_one(tmp_path: Path) -> None:
    """${flyway:timestamp} changes every second: a folder without ${...} must stay cached whatever the values.
    One that uses them is read every time: its replaced text may hold a secret, never written to disk."""
    plain = Reads(flyway(tmp_path / "plain"), placeholders={"flyway:timestamp": "1"})
    plain.cached(tmp_path / "cache")
    plain.placeholders = {"flyway:timestamp": "2"}
    plain.cached(tmp_path / "cache")
    assert plain.count == 1
    used = Reads(flyway(tmp_path / "used", "CREATE USER app IDENTIFIED BY '${password}';\n"),
                 placeholders={"password": "s3cr3t-value"})
    assert used.cached(tmp_path / "cache")[1][0].forward[0].text == "CREATE USER app IDENTIFIED BY 's3cr3t-value'"
    used.placeholders = {"password": "other"}
    assert used.cached(tmp_path / "cache")[1][0].forward[0].text == "CREATE USER app IDENTIFIED BY 'other'"
    assert used.count == 2
    assert not any(b"s3cr3t-value" in path.read_bytes() for path in (tmp_path / "cache").iterdir())


def test_a_damaged_cache_is_read_past_and_rewritten(tmp_path: Path) -> None:
    reads = Reads(flyway(tmp_path / "m"))
    reads.cached(tmp_path / "cache")
    (stored,) = (tmp_path / "cache").iterdir()
    stored.write_text('{"key": ')
    assert reads.cached(tmp_path / "cache")[1][0].version == "1"
    assert reads.cached(tmp_path / "cache")[1][0].version == "1"
    assert reads.count == 2


def test_a_cache_that_cannot_be_written_changes_nothing(tmp_path: Path) -> None:
    reads = Reads(flyway(tmp_path / "m"))
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    for _ in range(2):
        assert reads.cached(blocked / "cache")[1][0].version == "1"
    assert reads.count == 2


def test_a_folder_with_a_link_is_never_cached(tmp_path: Path) -> None:
    """Reading decides about links (inside or out of the folder); the cache keeps out of it."""
    folder = flyway(tmp_path / "m")
    (folder / "V2__u.sql").symlink_to(folder / "V1__t.sql")
    (folder / "U2__u.sql").write_text("DROP TABLE t;\n")
    reads = Reads(folder)
    for _ in range(2):
        assert [c.version for c in reads.cached(tmp_path / "cache")[1]] == ["1", "2"]
    assert reads.count == 2 and not (tmp_path / "cache").exists()


def test_a_big_file_comes_back_as_statements_read_from_it_when_they_run(tmp_path: Path) -> None:
    folder = flyway(tmp_path / "m", "".join(f"INSERT INTO t VALUES ({i});\n" for i in range(80_000)))
    reads = Reads(folder)
    first = reads.cached(tmp_path / "cache")[1][0]
    again = reads.cached(tmp_path / "cache")[1][0]
    assert reads.count == 1 and type(again.forward).__name__ == "FileStatements"
    assert len(again.forward) == 80_000 and list(again.forward)[-1] == list(first.forward)[-1]


def test_status_from_the_cache_imports_no_reader_and_sees_an_edit(tmp_path: Path) -> None:
    """What `dualpath status` costs on a second run: no lexer, no parser, no runner. An edit is seen."""
    folder = flyway(tmp_path / "migrations")
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    dualpath = [sys.executable, "-m", "dualpath.cli"]
    base = ["--url", url, "--migrations", str(folder)]
    assert subprocess.run([*dualpath, "apply", *base], cwd=tmp_path, capture_output=True).returncode == 0
    code = ("import sys; from dualpath.cli import app\n"
            "try:\n    app(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith(('dualpath.sources', 'dualpath.sql', "
            "'dualpath.apply', 'dualpath.batching', 'pglast'))))")
    seen = subprocess.run([sys.executable, "-c", code, "status", *base], cwd=tmp_path, capture_output=True, text=True)
    assert "applied" in seen.stdout and seen.stdout.strip().splitlines()[-1] == "[]", seen.stdout + seen.stderr
    (folder / "V1__t.sql").write_text("CREATE TABLE t (id BIGINT);\n")
    edited = subprocess.run([*dualpath, "status", *base], cwd=tmp_path, capture_output=True, text=True)
    assert "drifted" in edited.stdout, edited.stdout + edited.stderr


def test_a_gexec_statement_comes_back_from_the_cache_as_one(tmp_path: Path) -> None:
    """psql's \\gexec is part of what a statement is (Statement.gexec): a cache that dropped it would run
    the query and not what it returns."""
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "sqitch.conf").write_text("[core]\n\tengine = pg\n")
    (folder / "sqitch.plan").write_text("%project=p\n\nt 2024-01-01T00:00:00Z Me <me@x.org> # t\n")
    (folder / "deploy").mkdir()
    (folder / "revert").mkdir()
    (folder / "deploy" / "t.sql").write_text("SELECT 'CREATE TABLE t ()'\\gexec\n")
    (folder / "revert" / "t.sql").write_text("DROP TABLE t;\n")
    reads = Reads(folder)
    reads.cached(tmp_path / "cache")
    _, (change,) = reads.cached(tmp_path / "cache")
    assert reads.count == 1 and change.forward[0].gexec


def test_within_one_command_a_folder_is_read_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """reading_once: the quick check of an apply and the run share one read (no file read or hashed
    twice); different settings are still read apart, and outside the block every read looks again."""
    from dualpath import changes_cache

    folder = flyway(tmp_path / "m")
    reads = Reads(folder)
    hashed: list[Path] = []
    real_key = changes_cache.folder_key
    monkeypatch.setattr(changes_cache, "folder_key", lambda *a: hashed.append(a[0]) or real_key(*a))
    with changes_cache.reading_once():
        first = reads.cached(tmp_path / "cache")
        assert reads.cached(tmp_path / "cache") is first
        assert len(hashed) == 1 and reads.count == 1
        reads.cached(tmp_path / "cache", missing="allow")  # another key: read apart (and cached apart)
        assert len(hashed) == 2 and reads.count == 2
    (folder / "V1__t.sql").write_text("CREATE TABLE u (id INT);\n")
    assert reads.cached(tmp_path / "cache")[1][0].forward[0].text == "CREATE TABLE u (id INT)"
    assert reads.count == 3
