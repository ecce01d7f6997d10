"""Random ``-- dualpath:`` directives: unknown names, bad arguments, wrong types, misplaced.

The parser alone is held to "a directive, nothing, or an InputError naming file:line"; then the
same lines go into real migration files (any line of any file of flyway, dbmate and liquibase
projects) and the CLI must name exactly the line of a directive the parser refuses, exit 2
and leave the database untouched.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from dualpath.directives import KNOWN, parse_directive
from dualpath.errors import InputError
from tests.reliability.fuzz_support import (
    Files,
    base_project,
    exercise_project,
    fuzz_settings,
    log_example,
    project_folder,
    run_cli,
    write_target_config,
)

_NAMES = st.sampled_from(sorted(KNOWN)) | st.sampled_from(
    ["No-Transaction", "IRREVERSIBLE", "irreversable", "no_transaction", "notransaction", "batches", "tickets",
     "ignore-all", "x", "a-", "batch_", "é", "Category"]) | st.from_regex(r"[A-Za-z][\w-]{0,12}", fullmatch=True)
_KEYS = st.sampled_from(["reason", "table", "key", "size", "pause_ms", "target_ms", "max_rows_per_s", "max_lag_ms",
                         "id", "rules", "name", "", "REASON", "bogus", "size ", "k-y"])
_VALUES = st.sampled_from(["", "0", "-1", "5000", "1e3", "1.5", "99999999999999999999", "abc", '"two words"',
                           '"unclosed', "'single'", "widgets", "public.widgets", "a.b.c", "id,id", "id,name", "1bad",
                           "a b", "ünï", "\\", "=", '""', "$$"]) | st.text(max_size=10)
_ARG = st.builds(lambda k, v: f"{k}={v}", _KEYS, _VALUES) | _VALUES | st.sampled_from(["DP012", "DP1,DP2", "PROJ-1"])
_PREFIX = st.sampled_from(["-- dualpath:", "--dualpath:", "   --   dualpath:", "-- dualpath:", "-- DUALPATH:",
                           "-- dualpath :", "--  dualpath:"])


@st.composite
def directive_line(draw: st.DrawFn) -> str:
    args = draw(st.lists(_ARG, max_size=4))
    sep = draw(st.sampled_from([" ", "  ", "\t", ""]))
    return draw(_PREFIX) + draw(_NAMES) + (sep + " ".join(args) if args else "")


@fuzz_settings(400)
@given(directive_line(), st.integers(1, 10_000))
def test_parser_returns_a_directive_nothing_or_an_error_naming_the_line(line: str, lineno: int) -> None:
    try:
        found = parse_directive(line, "V1__x.sql", lineno)
    except InputError as exc:
        event("refused")
        assert exc.where == f"V1__x.sql:{lineno}" and exc.hint, str(exc)
        return
    event("accepted" if found else "not a directive")
    if found is not None:
        assert found.name in KNOWN and found.line == lineno
        assert KNOWN[found.name](found.args) is None  # what is accepted passes its own validator


def _sql_files(files: Files) -> list[str]:
    return sorted(p for p in files if p.endswith(".sql"))


@pytest.mark.parametrize("kind", ["flyway", "dbmate", "liquibase"])
def test_directive_anywhere_in_a_project_is_obeyed_or_refused_at_its_line(kind: str, pg_url: str) -> None:
    @fuzz_settings(7)
    @given(st.data())
    def check(data: st.DataObject) -> None:
        files = base_project(kind)
        path = data.draw(st.sampled_from(_sql_files(files)))
        lines = files[path].decode().split("\n")
        first = 1 if kind == "liquibase" else 0  # Liquibase reads a file only when line 1 is its header
        lines_added = data.draw(st.lists(st.tuples(st.integers(first, len(lines)), directive_line()), min_size=1,
                                         max_size=2))
        for at, line in lines_added:
            lines.insert(at, line)
        files[path] = "\n".join(lines).encode()
        with project_folder(files) as root:
            codes = exercise_project(pg_url, root)
            refused = _first_refused(lines)
            if refused is not None:
                # the refused directive's line is named, or an earlier problem of the same file (a directive
                # above Liquibase's first changeset is one): the first problem is reported first
                file = str(root / "migrations" / path)
                status = run_cli("status", "--config", str(write_target_config(root, pg_url)), "--url", "db")
                named = re.search(re.escape(file) + r":(\d+)", status.output)
                assert codes["status"] == 2 and named and int(named.group(1)) <= refused, \
                    f"{file}:{refused} not named:\n{status.output}"
        event(f"{kind}: status={codes['status']} apply={codes['apply']}")
        log_example(f"directives:{kind}", {"directives": [d for _, d in lines_added], **codes})

    check()


def _first_refused(lines: list[str]) -> int | None:
    """The line number of the first directive the parser refuses (the files hold no strings or block comments)."""
    for number, line in enumerate(lines, start=1):
        try:
            parse_directive(line, "f", number)
        except InputError:
            return number
    return None
