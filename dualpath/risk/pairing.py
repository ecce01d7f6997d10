"""When a folder's reader refuses it, lint still reads every file: pair each forward file with its
rollback by the layouts' file names, so rollbacks are judged as rollbacks and each change without a
way back is named once (DP045)."""

from __future__ import annotations

import re
from pathlib import Path

# forward name → its rollback's name, per layout (diesel, golang-migrate, sqitch, Flyway)
_PAIRS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^(?P<dir>(?:.*/)?)up\.sql$"), r"\g<dir>down.sql"),
    (re.compile(r"^(?P<stem>.+)\.up\.sql$"), r"\g<stem>.down.sql"),
    (re.compile(r"^deploy/(?P<rest>.+\.sql)$"), r"revert/\g<rest>"),
    (re.compile(r"^(?P<dir>(?:.*/)?)V(?P<rest>[^/]+__[^/]*\.sql)$"), r"\g<dir>U\g<rest>"),
)
_ROLLBACK = re.compile(r"(^|/)(down\.sql|[^/]+\.down\.sql|revert/.+|U[^/]+__[^/]*\.sql)$")
_NOT_RUN = re.compile(r"(^|/)verify/")  # sqitch verify scripts check, they do not change anything


def pair_files(folder: Path) -> list[tuple[Path, Path | None | bool]]:
    """(forward, its rollback or None when it has none) for layouts with rollback files; (file, False)
    for a file whose layout this cannot pair (dbmate, Liquibase: both directions in one file)."""
    files = sorted(folder.rglob("*.sql"))
    names = {f.relative_to(folder).as_posix() for f in files}
    expected = _rollbacks_of(names)
    result: list[tuple[Path, Path | None | bool]] = []
    for file in files:
        name = file.relative_to(folder).as_posix()
        if _NOT_RUN.search(name) or _ROLLBACK.search(name):
            if _ROLLBACK.search(name) and name not in expected:
                result.append((file, False))  # a rollback without forward: lint it on its own
            continue
        back = next((pattern.sub(repl, name) for pattern, repl in _PAIRS if pattern.match(name)), None)
        if back is None:
            result.append((file, False))
        else:
            result.append((file, folder / back if back in names else None))
    return result


def _rollbacks_of(names: set[str]) -> set[str]:
    return {pattern.sub(repl, n) for n in names for pattern, repl in _PAIRS if pattern.match(n)}
