"""Big files are scanned once and read again, statement by statement, when they run.

The lazy path must read exactly what the in-memory path reads (statements, lines, directives,
checksums) in every layout and dialect, split a text in windows exactly as a whole, and refuse a
file that changed between reading and running. Speed and memory are measured in bench/bigfiles.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dualpath.sources.common as common
import dualpath.sql.tokens as tokens
from dualpath.changes import Change, Statement, checksum_of
from dualpath.errors import InputError
from dualpath.sources import read_changes
from dualpath.sources.lazy import FileStatements
from dualpath.sql.split import split_with_directives
from dualpath.sql.stream import iter_split
from tests.unit.layouts import DIALECTS, KINDS, write_layout
from tests.unit.test_split_coverage import PIECES


def _view(change: Change) -> tuple[object, ...]:
    parts = [[(s.text, s.line, s.where, s.no_transaction, s.directives) for s in p]
             for p in (change.forward, change.rollback, change.extra.get("verify", ()))]
    return (change.version, change.checksum, change.no_transaction, change.directive("no-transaction"),
            change.directives, len(change.forward), len(change.rollback), *map(tuple, parts))


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("kind", KINDS)
def test_lazy_reading_reads_what_reading_in_memory_reads(kind: str, dialect: str, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    folder = write_layout(kind, tmp_path / kind, dialect)
    eager = read_changes(folder, dialect=dialect)
    monkeypatch.setattr(common, "LAZY_BYTES", -1)
    lazy = read_changes(folder, dialect=dialect)
    assert [_view(c) for c in lazy] == [_view(c) for c in eager]
    assert [c.checksum for c in lazy] == [checksum_of(c.forward, c.rollback) for c in eager]


def _big_folder(tmp_path: Path, rows: int) -> Path:
    folder = tmp_path / "big"
    folder.mkdir()
    lines = ["-- dualpath:ticket id=OPS-1", "BEGIN;", "CREATE TABLE big (id int, note text);"]
    lines += [f"INSERT INTO big VALUES ({i}, 'a; b -- {i}');" for i in range(rows)]
    lines += ["-- dualpath:no-transaction", "CREATE INDEX CONCURRENTLY big_id ON big (id);", "COMMIT;"]
    (folder / "sqitch.plan").write_text("%project=big\nbig 2024-01-01T12:00:00Z A <a@example.com> # big\n")
    (folder / "deploy").mkdir()
    (folder / "deploy" / "big.sql").write_text("\n".join(lines) + "\n")
    (folder / "revert").mkdir()
    (folder / "revert" / "big.sql").write_text("DROP TABLE big;\n")
    return folder


def test_a_big_file_is_not_kept_in_memory_and_reads_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _big_folder(tmp_path, 30_000)  # over a megabyte: several windows of the splitter
    monkeypatch.setattr(common, "LAZY_BYTES", 1 << 40)
    [eager] = read_changes(folder, dialect="postgresql")
    monkeypatch.setattr(common, "LAZY_BYTES", 1 << 20)
    [lazy] = read_changes(folder, dialect="postgresql")
    assert isinstance(lazy.forward, FileStatements) and not isinstance(eager.forward, FileStatements)
    assert _view(lazy) == _view(eager)
    assert lazy.extra["dropped_transaction_statements"] is True
    assert lazy.ticket == "OPS-1" and lazy.no_transaction
    assert lazy.forward[0].text.startswith("CREATE TABLE") and lazy.forward[-1].text.startswith("CREATE INDEX")


def test_a_big_file_that_changes_after_reading_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _big_folder(tmp_path, 100)
    monkeypatch.setattr(common, "LAZY_BYTES", -1)
    [change] = read_changes(folder, dialect="postgresql")
    script = folder / "deploy" / "big.sql"
    stat = script.stat()
    script.write_text(script.read_text().replace("INSERT INTO big VALUES (5,", "INSERT INTO big VALUES (6,"))
    os.utime(script, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size and time: the digest tells
    with pytest.raises(InputError, match="changed while dualpath was using it"):
        list(change.forward)


@pytest.mark.parametrize("extra, changes", [("", False), ("SET search_path TO app;", True),
                                            ("SELECT set_config('role', 'x', false);", True)])
def test_whether_a_big_file_changes_the_session_is_known_without_reading_it_again(
        extra: str, changes: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _big_folder(tmp_path, 100)
    script = folder / "deploy" / "big.sql"
    script.write_text(script.read_text().replace("COMMIT;", f"{extra}\nCOMMIT;"))
    monkeypatch.setattr(common, "LAZY_BYTES", -1)
    [change] = read_changes(folder, dialect="postgresql")
    assert isinstance(change.forward, FileStatements)
    script.write_text("")  # reading the statements again would now be refused: the answer was kept
    assert change.changes_session is changes


@pytest.mark.parametrize("dialect", ["postgresql", "mysql", "sqlite", None])
def test_windows_split_as_the_whole_text(dialect: str | None) -> None:
    body = ("SELECT 1;\n-- dualpath:no-transaction\nCREATE TABLE t (a text DEFAULT 'x;y');\n"
            "CREATE FUNCTION f() RETURNS int AS $f$ SELECT 1; $f$ LANGUAGE sql;\n"
            "/* c; */ INSERT INTO t VALUES ('z');\n")
    if dialect in ("mysql", None):
        body += "DELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END//\nDELIMITER ;\n"
    text = body * 40 + "-- dualpath:ticket id=X-1\n"
    whole, found = split_with_directives(text, file="f.sql", dialect=dialect)
    for window, piece in ((300, 7), (1000, 333), (1 << 18, 1 << 20)):
        directives: list[object] = []
        pieces = [text[i:i + piece] for i in range(0, len(text), piece)]
        got = list(iter_split(pieces, file="f.sql", dialect=dialect, directives=directives, window=window))
        assert [(s.text, s.line, s.span, s.directives, s.no_transaction) for s in got] == [
            (s.text, s.line, s.span, s.directives, s.no_transaction) for s in whole]
        assert directives == found


def _split_both(text: str, dialect: str | None, window: int, piece: int) -> tuple[object, object]:
    def view(statements: list[Statement]) -> list[tuple[object, ...]]:
        return [(s.text, s.line, s.span, s.directives, s.no_transaction) for s in statements]

    try:
        whole, found = split_with_directives(text, file="f.sql", dialect=dialect)
        want: object = (view(whole), found)
    except InputError as exc:
        want = exc.where
    try:
        directives: list[object] = []
        pieces = [text[i:i + piece] for i in range(0, len(text), piece)]
        got: object = (view(list(iter_split(pieces, file="f.sql", dialect=dialect, directives=directives,
                                            window=window))), directives)
    except InputError as exc:
        got = exc.where
    return got, want


@pytest.mark.parametrize("dialect", ["postgresql", "mysql", "sqlite", None])
@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(text=st.lists(st.sampled_from([*PIECES, "INSERT INTO t VALUES (1, 'a;b')", "UPDATE t SET a = -1"])
                     | st.text(max_size=3), max_size=80).map(lambda t: "".join(t) * 3),
       window=st.integers(1, 300), piece=st.integers(1, 300))
def test_windows_and_the_fast_path_split_as_the_whole_text(dialect: str | None, text: str, window: int,
                                                            piece: int) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tokens, "_MARGIN", 8)  # windows cut often, even in short texts
        got, want = _split_both(text, dialect, window, piece)
    assert got == want
