"""Lint migration folders or .sql files: read them, run the rules, pick the exit code (``dualpath.lint`` renders)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from dualpath.changes import Change, Directive, Statement
from dualpath.errors import DualpathError, UsageError
from dualpath.risk.catalogue import Catalogue, Version, catalogue_for, family_of, normalise_dialect
from dualpath.risk.check import SYNTAX_RULE, check_change
from dualpath.risk.live import LiveTarget
from dualpath.risk.measure.observation import Measurement
from dualpath.risk.model import Finding, severity_rank
from dualpath.risk.registry import check_rule_ids

FAIL_ON = ("info", "warning", "error")
RUNNERS = ("dualpath", "other")  # who runs the files: dualpath (journal, timeouts) or another tool
_WHERE = re.compile(r"^(?P<file>.*?):(?P<line>\d+)$")


def lint_paths(paths: list[Path], *, dialect: str, version: Version | None = None, url: str | None = None,
               disabled: set[str] | frozenset[str] = frozenset(), runner: str = "dualpath",
               pii_columns: Sequence[str] = (), echo: Callable[[str], None] = lambda _: None) -> list[Finding]:
    """Findings for every path: a migration folder (read with its layout) or single .sql files.

    A file that cannot be read or parsed becomes a finding; the other files are still linted. With
    ``url`` the rules also see the server's current schema (and its planner's estimates), and the changes
    not yet applied there are measured on a shadow of it (risk/measure); ``echo`` gets what could not be
    measured.
    """
    check_rule_ids(disabled)
    if url is None:
        return _lint_all(paths, dialect, version, None, disabled, runner, None)
    from dualpath.risk.live import live_target

    with live_target(url) as live:
        catalogue = _catalogue(dialect, version, live)
        read = [read_path(Path(path), catalogue) for path in paths]
        measurement = _measure(url, [c for changes, _ in read for c, _ in changes], catalogue, pii_columns)
        for note in measurement.notes:
            echo(f"note: {note}")
        return _lint_all(paths, dialect, version, live, disabled, runner, measurement, read)


def _lint_all(paths: list[Path], dialect: str, version: Version | None, live: LiveTarget | None,
              disabled: set[str] | frozenset[str], runner: str, measurement: Measurement | None,
              read: list[tuple[list[tuple[Change, bool]], list[tuple[DualpathError, Path]]]] | None = None,
              ) -> list[Finding]:
    catalogue = _catalogue(dialect, version, live)
    if read is None:
        read = [read_path(Path(path), catalogue) for path in paths]
    findings: list[Finding] = []
    for changes, errors in read:
        findings.extend(_lint_path(changes, errors, catalogue, disabled, live, runner, measurement))
    return sorted(findings, key=lambda f: (f.file, f.line, f.column, f.rule))


def _measure(url: str, changes: list[Change], catalogue: Catalogue, pii_columns: Sequence[str]) -> Measurement:
    from dualpath.engines import open_engine
    from dualpath.risk.measure.run import applied_versions, measure_changes

    engine = open_engine(url)
    return measure_changes(engine, changes, catalogue, applied=applied_versions(engine), pii_columns=pii_columns)


def _catalogue(dialect: str, version: Version | None, live: LiveTarget | None) -> Catalogue:
    name = normalise_dialect(dialect)
    if live is not None:
        if family_of(live.flavor) != family_of(name):
            raise UsageError(f"--dialect {dialect} does not match the server at --url ({live.flavor})",
                             hint=f"use --dialect {live.flavor}, or drop --dialect")
        name = live.flavor if name == "mysql" else name
        version = version or live.version
    return catalogue_for(name, version)


def _lint_path(changes: list[tuple[Change, bool]], errors: list[tuple[DualpathError, Path]], catalogue: Catalogue,
               disabled: set[str] | frozenset[str], live: LiveTarget | None, runner: str,
               measurement: Measurement | None) -> list[Finding]:
    found = [_error_finding(exc, where, disabled) for exc, where in errors]
    sizes = live.sizes if live else {}
    for change, knows_rollback in changes:
        found.extend(check_change(change, catalogue, knows_rollback=knows_rollback, disabled=disabled, sizes=sizes,
                                  runner=runner, measurement=measurement, schema=live.schema if live else None))
    return found


def read_path(path: Path, catalogue: Catalogue
              ) -> tuple[list[tuple[Change, bool]], list[tuple[DualpathError, Path]]]:
    """The changes in a migration folder (read with its layout) or a single .sql file.

    Each change comes with whether its layout knows rollbacks; what cannot be read comes back as
    errors with the path they are about.
    """
    if not path.exists():
        raise UsageError(f"no such file or folder: {path}", hint="pass migration folders or .sql files")
    if not path.is_dir():
        return _read_file(path, catalogue)
    from dualpath.sources import read_changes
    from dualpath.sources.files import reading_from

    try:
        # "allow": DP045 names each change without a way back, whatever [rollback] missing says
        changes = read_changes(path, dialect=family_of(catalogue.dialect), missing_rollbacks="allow")
    except DualpathError as exc:
        # the folder as a whole is unreadable (say, one change lacks its rollback, or the layout
        # has a form dualpath does not read yet): report that, then still read every file in it
        with reading_from(path):  # the links the folder refused stay refused file by file
            return _read_files(path, catalogue, exc)
    return [(change, True) for change in changes], []


def _read_files(folder: Path, catalogue: Catalogue, exc: DualpathError
                ) -> tuple[list[tuple[Change, bool]], list[tuple[DualpathError, Path]]]:
    """Every file, forward paired with its rollback by file name, read as its layout's reader would."""
    from dualpath.risk.pairing import pair_files

    found: list[tuple[Change, bool]] = []
    errors: list[tuple[DualpathError, Path]] = []
    strip = (folder / "sqitch.plan").is_file()  # sqitch's reader drops BEGIN/COMMIT: judge what runs
    for forward, back in pair_files(folder):
        ahead, directives, problems = _statements(forward, catalogue, strip)
        behind: tuple[Statement, ...] = ()
        if isinstance(back, Path):
            behind, _, more = _statements(back, catalogue, strip)
            problems += more
        # the file alone may fail for the reason the folder did: report that once
        errors.extend(p for p in problems if (p[0].where, p[0].message) != (exc.where, exc.message))
        paired = back is not False
        found.append((Change(version=_version_of(forward, folder) if paired else "", description=forward.stem,
                             forward=ahead, rollback=behind, file=str(forward),
                             rollback_file=str(back) if isinstance(back, Path) else None,
                             directives=directives, layout="files" if paired else "file"), paired))
    if not (_missing_rollback(exc) and any(paired for _, paired in found)):
        errors.insert(0, (exc, folder))  # else DP045 names each change without a rollback
    return found, errors


def _missing_rollback(exc: DualpathError) -> bool:
    return "no rollback" in exc.message


def _version_of(forward: Path, folder: Path) -> str:
    name = forward.relative_to(folder).as_posix()
    return name[: -len("/up.sql")] if name.endswith("/up.sql") else forward.stem.removesuffix(".up")


def _statements(path: Path, catalogue: Catalogue, strip: bool
                ) -> tuple[tuple[Statement, ...], tuple[Directive, ...], list[tuple[DualpathError, Path]]]:
    """A file's statements (BEGIN/COMMIT dropped when its reader drops them) and change directives."""
    from dualpath.sources.common import change_directives, drop_transaction_control, read_text
    from dualpath.sql import split_with_directives

    try:
        statements, directives = split_with_directives(read_text(path), file=str(path),
                                                       dialect=family_of(catalogue.dialect))
    except DualpathError as exc:
        return (), (), [(exc, path)]
    kept = drop_transaction_control(statements)[0] if strip else tuple(statements)
    return kept, change_directives(directives), []


def _read_file(path: Path, catalogue: Catalogue
               ) -> tuple[list[tuple[Change, bool]], list[tuple[DualpathError, Path]]]:
    from dualpath.sources.common import read_text
    from dualpath.sql import split_with_directives

    try:
        statements, _ = split_with_directives(read_text(path), file=str(path),
                                              dialect=family_of(catalogue.dialect))
    except DualpathError as exc:
        return [], [(exc, path)]
    change = Change(version="", description=path.stem, forward=tuple(statements), rollback=(),
                    file=str(path), layout="file")
    return [(change, False)], []


def _error_finding(exc: DualpathError, path: Path, disabled: Iterable[str]) -> Finding:
    """A reader's or splitter's error, at the place it names."""
    file, line = str(path), 1
    match = _WHERE.match(exc.where or "")
    if match:
        file, line = match.group("file"), int(match.group("line"))
    elif exc.where:
        file = exc.where
    rule = "DP045" if _missing_rollback(exc) and "DP045" not in disabled else SYNTAX_RULE
    return Finding(rule=rule, severity="error", file=file, line=line, message=exc.message,
                   fix=exc.hint or "correct the file", title="file cannot be read")


def exit_code(findings: list[Finding], fail_on: str) -> int:
    """1 when any finding is at or above ``fail_on``, else 0."""
    bar = severity_rank(fail_on)
    return 1 if any(severity_rank(f.severity) >= bar for f in findings) else 0
