"""Shared pieces of the bad-input fuzz tests: mutated projects, the CLI contract, database snapshots.

The contract every example is held to (see ``check_result``):
- no traceback and no "internal error" (a Python exception that escaped our error handling);
- an exit code the command documents: 0 ok, 1 findings / verification, 2 bad input,
  3 refused, 4 a statement failed on the server;
- exit 2 names where (file:line, or the folder for folder-level problems, or the config key
  and file) and says what to do next ("next:");
- exit 3 and 4 say what to do next; 4 also names the failing statement's file:line;
- exit 2 leaves the database untouched (``snapshot`` before == after).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, event, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from dualpath.cli import app
from dualpath.engines import open_engine
from tests.unit.layouts import KINDS, write_layout

Files = dict[str, bytes]  # relative path -> content: a whole migrations folder

# the commands' documented exit codes on any input (dualpath/errors.py, docs)
ALLOWED = {
    "lint": {0, 1, 2},
    "status": {0, 2},
    "plan": {0, 2},
    "tenants": {0, 2},
    "verify": {0, 1, 2, 4},  # 1: a round trip differs; 4: a statement failed on the shadow
    "apply": {0, 2, 3, 4},  # 3: refused before running (e.g. no backup); 4: a statement failed
}
# problems of the whole folder: they name the folder, as there is no line to name
_FOLDER_LEVEL = re.compile(r"migrations folder is empty|no migrations recognised|mixed migration layouts"
                           r"|migrations folder not found|not a folder")


def examples(n: int) -> int:
    """N examples in CI; DUALPATH_FUZZ_EXAMPLES=10 runs ten times as many for a long local run."""
    return n * max(1, int(os.environ.get("DUALPATH_FUZZ_EXAMPLES", "1")))


def fuzz_settings(n: int) -> Any:
    """Reproducible in CI: the same examples every run, no per-example deadline on a loaded machine."""
    # shrinking a failure can take minutes on a loaded machine: on for a local hunt (DUALPATH_FUZZ_SHRINK=1)
    phases = [Phase.explicit, Phase.generate] + ([Phase.shrink] if os.environ.get("DUALPATH_FUZZ_SHRINK") else [])
    return settings(derandomize=True, deadline=None, max_examples=examples(n), database=None, phases=phases,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large, HealthCheck.large_base_example])


# -- valid projects and their mutations ----------------------------------------------------------

_BASE: dict[str, Files] = {}


def base_project(kind: str) -> Files:
    """The valid two-change project of a layout (tests/unit/layouts.py), as bytes per file."""
    if kind not in _BASE:
        with tempfile.TemporaryDirectory() as tmp:
            folder = write_layout(kind, Path(tmp) / "m", "postgresql")
            _BASE[kind] = {str(p.relative_to(folder)): p.read_bytes()
                           for p in sorted(folder.rglob("*")) if p.is_file()}
    return dict(_BASE[kind])


# lines that break lexers, splitters and readers: quotes, dollar quotes, comments, markers of other
# layouts, directives, plan and metadata lines, control characters
NASTY_LINES = [
    "'", '"', "`", "$$", "$body$", "$a$ never closed", "/*", "*/", "/* nested /* comment */", "E'\\'",
    "DELIMITER //", "DELIMITER ;", "DELIMITER", "END //", "BEGIN;", "COMMIT;", "ROLLBACK;", "END;", ";", ";;;",
    "-- migrate:up", "-- migrate:down", "-- migrate:up transaction:false", "-- migrate:down foo",
    "--liquibase formatted sql", "--changeset a:b", "--changeset", "--changeset a:",
    "--changeset a:b runInTransaction:false",
    "--changeset x:y splitStatements:false", "--changeset x:z endDelimiter:/", "--rollback DROP TABLE widgets;",
    "--rollback not required", "--rollback", "--comment: x", "-- dualpath:irreversible", "-- dualpath:no-transaction",
    "-- dualpath:irreversible reason=\"fuzz\"", "-- dualpath:batch table=widgets key=id size=10",
    "-- dualpath:bogus", "-- dualpath:ticket", "-- dualpath:ignore", "-- dualpath:category",
    "CREATE INDEX CONCURRENTLY widgets_fuzz_idx ON widgets (name);", "DROP TABLE widgets;",
    "UPDATE widgets SET name = name;", "SELECT 1;", "COPY widgets FROM stdin;", "\\.", "\\i other.sql",
    "SELECT pg_sleep(0);", "CREATE TABLE", "ALTER TABLE widgets ADD COLUMN", "DO $$ BEGIN END $$;",
    "CREATE FUNCTION f() RETURNS int AS $f$ SELECT 1 $f$ LANGUAGE sql;", "\x00", "\ufeff", "\u2028", "\r", "\t",
    "%syntax-version=1.0.0", "%project=", "@v1 2024-01-01T12:00:00Z A <a@b> # tag",
    "-create_widgets 2024-01-01T12:00:00Z A <a@b>", "x [create_widgets !y] 2024-01-01T12:00:00Z A <a@b> # n",
    "create_widgets 2024-01-01T12:00:00Z A <a@b> # again", "bad [ 2024 A", "name 2024-13-45T99:99:99Z A <a@b>",
    "run_in_transaction = false", "run_in_transaction = 'no'", "run_in_transaction = [", "[section",
    "executeInTransaction=false",
]

_SQLISH = st.sampled_from(list("abcxyz_ ();,.'\"$-*/\\\n\t0123456789=<>[]{}:@%#`") + ["\x00", "é", "\ufffd"])
sqlish_text = st.text(_SQLISH, max_size=80) | st.text(max_size=60)
random_line = st.sampled_from(NASTY_LINES) | sqlish_text
# file names: mostly near the layouts' patterns, sometimes anything a file system takes
_NAME_PREFIX = st.sampled_from(["V", "U", "R", "v", "", "000001_", "1_", "20240101120000_", "2024-01-01-120000_",
                                "V1__", "U1__", "00000x_", "-1_", "1.0_"])
_NAME_VERSION = st.sampled_from(["1", "2", "01", "1.0", "1_1", "1.1.1", "", "x", "1a", "٣", "99999999999999999999999",
                                 "2024-01-01-120000", "1..2", "0"])
_NAME_SEP = st.sampled_from(["__", "_", "", "-", "___"])
_NAME_DESC = st.text(st.sampled_from(list("abz_-. @é")), max_size=12)
_NAME_SUFFIX = st.sampled_from([".sql", ".up.sql", ".down.sql", ".sql.conf", ".SQL", "", ".txt", ".plan", ".toml"])
file_name = st.builds(lambda *parts: "".join(parts) or "x", _NAME_PREFIX, _NAME_VERSION, _NAME_SEP, _NAME_DESC,
                      _NAME_SUFFIX).filter(lambda n: n not in (".", ".."))


def _lines(data: bytes) -> list[bytes]:
    return data.split(b"\n")


def _edit_lines(data: bytes, index: int, edit: Callable[[list[bytes], int], object]) -> bytes:
    lines = _lines(data)
    edit(lines, index % max(1, len(lines)))
    return b"\n".join(lines)


@st.composite
def file_mutation(draw: st.DrawFn, data: bytes) -> tuple[str, bytes]:
    """One edit of one file's bytes, and its name for the statistics."""
    kind = draw(st.sampled_from(["truncate", "drop", "duplicate", "garble", "insert", "bytes", "empty", "huge",
                                 "swap"]))
    at = draw(st.integers(0, max(0, len(data))))
    if kind == "truncate":
        return kind, data[:at]
    if kind == "drop":
        return kind, _edit_lines(data, at, lambda ls, i: ls.pop(i))
    if kind == "duplicate":
        return kind, _edit_lines(data, at, lambda ls, i: ls.insert(i, ls[i]))
    if kind in ("garble", "insert"):
        line = draw(random_line).encode("utf-8", "surrogatepass")
        if kind == "garble":
            return kind, _edit_lines(data, at, lambda ls, i: ls.__setitem__(i, line))
        return kind, _edit_lines(data, at, lambda ls, i: ls.insert(i, line))
    if kind == "bytes":
        junk = draw(st.sampled_from([b"\x00", b"\xff", b"\xc3", b"\xe2\x82", b"\xef\xbb\xbf", b"\r", b"\x1b[31m"])
                    | st.binary(min_size=1, max_size=8))
        return kind, data[:at] + junk + data[at:]
    if kind == "empty":
        return kind, draw(st.sampled_from([b"", b"\n", b"   \n\n", b"-- only a comment\n", b";", b"\xef\xbb\xbf"]))
    if kind == "huge":
        body = draw(st.sampled_from(["x", "'", "-", "(", "$", " ", "é"])) * draw(st.sampled_from([5_000, 60_000]))
        long = draw(st.sampled_from(["SELECT '{}';", "-- {}", "{}", "CREATE TABLE t{} (id int);"])).format(body)
        return kind, _edit_lines(data, at, lambda ls, i: ls.insert(i, long.encode()))
    lines = _lines(data)  # swap two lines: rollback before forward, markers out of order
    i, j = at % max(1, len(lines)), draw(st.integers(0, max(0, len(lines) - 1)))
    lines[i], lines[j] = lines[j], lines[i]
    return kind, b"\n".join(lines)


def _duplicate_name(kind: str, path: str, draw: st.DrawFn) -> str:
    """Another name carrying the same version: the files a merge of two branches leaves behind."""
    head, _, name = path.rpartition("/")
    def flyway(m: re.Match[str]) -> str:
        return m[1] + draw(st.sampled_from([m[2], "0" + m[2], m[2] + ".0", m[2] + "_0"])) + "__other_"

    twin = {
        "flyway": re.sub(r"^([VU])(\d+)__", flyway, name),
        "golang-migrate": re.sub(r"^0*(\d+)_", lambda m: draw(st.sampled_from([m[1], "0" + m[1]])) + "_other_", name),
        "dbmate": re.sub(r"^(\d+)_", r"\1_other_", name),
    }.get(kind, name + ".copy")
    return f"{head}/{twin}" if head else twin


@st.composite
def mutated_project(draw: st.DrawFn, kind: str) -> tuple[Files, list[str]]:
    """A valid project of ``kind`` with one to four mutations; returns it and the mutations' names."""
    files = base_project(kind)
    done: list[str] = []
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(sorted(files))) if files else None
        op = draw(st.sampled_from(["edit", "edit", "edit", "delete", "dup-version", "rename", "add", "layout"]))
        if path is None or op == "add":
            files[_top_or_nested(kind, draw)] = draw(st.binary(max_size=200) | sqlish_text.map(str.encode))
        elif op == "edit":
            name, files[path] = draw(file_mutation(files[path]))
            op = f"edit:{name}"
        elif op == "delete":
            del files[path]
        elif op == "dup-version":
            files[_duplicate_name(kind, path, draw)] = files[path]
        elif op == "rename":
            head = path.rpartition("/")[0]
            new = draw(file_name)
            files[f"{head}/{new}" if head else new] = files.pop(path)
        else:
            op = _layout_mutation(kind, files, draw)
        done.append(op)
    return files, done


def _top_or_nested(kind: str, draw: st.DrawFn) -> str:
    folder = draw(st.sampled_from(["", "", "deploy/", "revert/", "2024-01-01-120000_create_widgets/", "sub/"]))
    return folder + draw(file_name)


def _layout_mutation(kind: str, files: Files, draw: st.DrawFn) -> str:
    """What only one layout has: diesel's metadata.toml, sqitch's plan and conf, Flyway's .conf."""
    text = draw(st.sampled_from(["run_in_transaction = false", "run_in_transaction = 'no'", "run_in_transaction =",
                                 "[[x]]\n[x]", "= 1", "run_in_transaction = false\nrun_in_transaction = true",
                                 "\x00", "executeInTransaction=false", "%syntax-version=9", "[core]\nengine = oracle"])
                | sqlish_text).encode("utf-8", "surrogatepass")
    if kind == "diesel":
        files[f"{draw(st.sampled_from(sorted({p.split('/')[0] for p in files} or {'x'})))}/metadata.toml"] = text
        return "layout:metadata.toml"
    if kind == "sqitch":
        target = draw(st.sampled_from(["sqitch.plan", "sqitch.conf"]))
        lines = _lines(files.get(target, b""))
        lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(NASTY_LINES[-17:]) | sqlish_text).encode())
        files[target] = b"\n".join(lines)
        return f"layout:{target}"
    if kind == "flyway":
        files["V1__create_widgets.sql.conf"] = text
        return "layout:flyway.conf"
    if kind in _HEADERS:  # the lines that cut a file into changes or directions, rewritten
        pattern, variants = _HEADERS[kind]
        path = draw(st.sampled_from(sorted(files)))
        lines = _lines(files[path])
        marked = [i for i, line in enumerate(lines) if re.match(pattern, line)] or [0]
        lines[draw(st.sampled_from(marked))] = draw(st.sampled_from(variants)).encode()
        files[path] = b"\n".join(lines)
        return f"layout:{kind}-header"
    up = draw(st.sampled_from(sorted(files)))  # golang-migrate: a file turned into the other direction
    files[up.replace(".up.", ".down.") if ".up." in up else up.replace(".down.", ".up.")] = files.pop(up)
    return "layout:direction"


_HEADERS = {
    "liquibase": (rb"--changeset", ["--changeset a:b splitStatements:false", "--changeset a:b endDelimiter:GO",
                                    '--changeset "a b":""', "--changeset a:b runInTransaction:false", "--changeset :b",
                                    "--changeset a:b endDelimiter:", "--changeset a:b endDelimiter:;",
                                    '--changeset a:"b c" context:x', "--changeset example:create-widgets",
                                    "--changeset a:b splitStatements:false endDelimiter:/"]),
    "dbmate": (rb"-- migrate:", ["-- migrate:up transaction:false", "--migrate:up", "-- migrate:UP", "-- migrate:down",
                                 "-- migrate:down transaction:false", "-- migrate:up", "-- migrate:upx",
                                 "-- migrate:sideways"]),
}


@st.composite
def random_project(draw: st.DrawFn) -> tuple[Files, list[str]]:
    """One to four files with random names and random content: no valid example behind them."""
    files: Files = {}
    for _ in range(draw(st.integers(1, 4))):
        files[_top_or_nested("", draw)] = draw(st.binary(max_size=300) | sqlish_text.map(str.encode)
                                               | st.lists(random_line, max_size=8).map(lambda ls: "\n".join(ls).encode(
                                                   "utf-8", "surrogatepass")))
    return files, ["random"]


def write_project(folder: Path, files: Files) -> Path:
    """Write the files; a name the file system refuses, or a file/folder clash, is dropped quietly."""
    folder.mkdir(parents=True, exist_ok=True)
    for rel, data in files.items():
        path = folder / rel
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        except OSError:
            continue  # e.g. a file named like a folder written before: not the input under test
    return folder


# -- the database and the CLI -----------------------------------------------------------------------

Snapshot = tuple[tuple[str, ...], Any]


def snapshot(url: str) -> Snapshot:
    """Every relation and schema outside the catalogs, plus the schema fingerprint."""
    engine = open_engine(url)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT n.nspname || '.' || c.relname || ':' || c.relkind::text FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_' "
            "UNION ALL SELECT 'schema:' || nspname FROM pg_namespace "
            "WHERE nspname NOT IN ('pg_catalog', 'information_schema') AND nspname !~ '^pg_' "
            "ORDER BY 1").scalars().all()
        return tuple(rows), engine.fingerprint(conn)


def reset_database(url: str) -> None:
    """Back to an empty public schema: what an example applied must not leak into the next one."""
    engine = open_engine(url)
    with engine.connect() as conn:
        schemas = conn.exec_driver_sql(
            "SELECT nspname FROM pg_namespace WHERE nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND nspname !~ '^pg_'").scalars().all()
        for name in schemas:
            conn.exec_driver_sql(f'DROP SCHEMA "{name}" CASCADE')
        conn.exec_driver_sql("CREATE SCHEMA public")
        conn.commit()


@dataclass
class Run:
    command: str
    exit_code: int
    output: str


def run_cli(command: str, *args: str) -> Run:
    result = CliRunner().invoke(app, [command, *args])
    text = result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        text += f"\nTraceback (escaped the CLI): {type(result.exception).__name__}: {result.exception}"
    return Run(command, result.exit_code, text)


def check_result(run: Run, *, places: tuple[str, ...], config: Path | None = None) -> None:
    """The contract above; ``places`` are the folders/files a file:line in the message may name."""
    label = f"{run.command} exited {run.exit_code}:\n{run.output}"
    event(f"{run.command} exit {run.exit_code}")
    assert "Traceback" not in run.output, label
    assert "internal error" not in run.output, label
    assert run.exit_code in ALLOWED[run.command], label
    if run.exit_code in (2, 3, 4):
        assert "next:" in run.output or run.command == "lint", label
    if run.exit_code == 2:
        assert names_place(run.output, places, config), f"no file:line, folder or config key named: {label}"
    if run.exit_code == 4:
        assert names_file_line(run.output, places), f"the failing statement's file:line is not named: {label}"


def names_file_line(output: str, places: tuple[str, ...]) -> bool:
    # file names may hold spaces: anything up to a colon and a line number on the same line
    return any(re.search(re.escape(place) + r"[^\n:]*:\d+", output) for place in places)


def names_place(output: str, places: tuple[str, ...], config: Path | None) -> bool:
    if names_file_line(output, places):
        return True
    if _FOLDER_LEVEL.search(output) and any(place in output for place in places):
        return True
    return config is not None and names_config(output, config)


def names_config(output: str, config: Path) -> bool:
    """A config problem names the file and the key ([targets.db.url], setting 'x.y'), or the line."""
    return bool(re.search(re.escape(str(config)) + r"(:\d+| \[[^\]\n]+\]|: (setting '|unknown (target|environment)"
                          r"|no database given))", output))


@contextmanager
def project_folder(files: Files) -> Iterator[Path]:
    """A fresh temporary project per example (hypothesis reuses the test's fixtures across examples)."""
    with tempfile.TemporaryDirectory(prefix="dpfuzz_") as tmp:
        root = Path(tmp)
        write_project(root / "migrations", files)
        yield root


def write_target_config(root: Path, url: str) -> Path:
    """One target 'db'; short timeouts, so a random statement waiting on a lock fails fast."""
    path = root / "dualpath.toml"
    path.write_text('migrations = "migrations"\n[safety]\nlock_timeout_ms = 300\nstatement_timeout_ms = 20000\n'
                    f'lock_retries = 0\nretry_backoff_ms = 10\n[targets.db]\nurl = "{url}"\n')
    return path


_CLEAN: dict[str, Snapshot] = {}  # url -> snapshot of the reset database, when nothing has written since


def clean_database(url: str) -> Snapshot:
    """Reset the database unless the last example left it untouched; the snapshot of its empty state."""
    if url not in _CLEAN:
        reset_database(url)
        _CLEAN[url] = snapshot(url)
    return _CLEAN[url]


def mark_dirty(url: str) -> None:
    """Something may write: the next example starts from a reset database."""
    _CLEAN.pop(url, None)


def exercise_project(url: str, root: Path, *, verify: bool = True) -> dict[str, int]:
    """lint, status, plan, (verify), apply on one project against the database at ``url``; check each.

    Read-only commands leave the database as it was, and so does an apply that exits 2.
    Returns the exit code per command.
    """
    folder = root / "migrations"
    config = write_target_config(root, url)
    empty = clean_database(url)
    places = (str(folder), str(root))
    codes: dict[str, int] = {}
    lint = run_cli("lint", str(folder), "--config", str(config), "--format", "json")
    check_result(lint, places=places)
    codes["lint"] = lint.exit_code
    if lint.exit_code in (0, 1):
        check_findings(lint.output, places)
    for command in ("status", "plan") + (("verify",) if verify else ()):
        if command == "verify" and codes["status"] != 0:
            continue  # verify reads the same files as status: only worth a shadow when they parse
        run = run_cli(command, "--config", str(config), "--url", "db")
        check_result(run, places=places)
        codes[command] = run.exit_code
    assert snapshot(url) == empty, f"a read-only command changed the database: {codes}"
    mark_dirty(url)
    apply = run_cli("apply", "--config", str(config), "--url", "db")
    check_result(apply, places=places)
    codes["apply"] = apply.exit_code
    if apply.exit_code == 2:
        assert snapshot(url) == empty, f"apply exited 2 but changed the database:\n{apply.output}"
        _CLEAN[url] = empty
    if apply.exit_code == 0:
        after = run_cli("status", "--config", str(config), "--url", "db", "--format", "json")
        assert after.exit_code == 0 and '"pending"' not in after.output, after.output
    assert (codes["status"] == 0) == (codes["plan"] == 0), f"status and plan disagree on the input: {codes}"
    if codes["status"] == 2:
        assert codes["apply"] == 2, f"status refused the input but apply went on: {codes}\n{apply.output}"
    return codes


def check_findings(output: str, places: tuple[str, ...]) -> None:
    """lint's JSON: each finding once, each at a file:line inside the project."""
    findings = json.loads(output)
    seen = [(f["rule"], f["file"], f["line"], f["column"], f["message"]) for f in findings]
    assert len(seen) == len(set(seen)), f"a finding is reported twice:\n{output}"
    for rule, file, line, _, _ in seen:
        assert any(file.startswith(place) for place in places) and line >= 1, f"{rule} at {file}:{line}"


def log_example(label: str, outcome: dict[str, Any]) -> None:
    """DUALPATH_FUZZ_LOG=path appends one JSON line per example: how many ran, with which exit codes."""
    path = os.environ.get("DUALPATH_FUZZ_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"test": label, **outcome}) + "\n")


def layouts() -> tuple[str, ...]:
    return KINDS
