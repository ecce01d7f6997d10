"""State edited behind dualpath's back, named before anything runs.

Migration files deleted or renamed after they were applied, new files slotted below the last applied
version, history rows deleted or edited by hand, history written by a newer dualpath: each is either
refused (exit 3, nothing ran) or warned about, with what to do next.
"""

from __future__ import annotations

from collections.abc import Callable

from dualpath.changes import Change, is_repeatable, version_key
from dualpath.errors import TargetRefused
from dualpath.status import ChangeState

Echo = Callable[[str], None]


def refuse_unreadable_history(states: list[ChangeState], foreign_columns: list[str]) -> None:
    """Rows or columns this dualpath does not know: acting on them could undo what a newer one did."""
    unknown = [s for s in states if s.state == "unknown"]
    if not unknown and not foreign_columns:
        return
    what = [f"version {s.version} has direction '{s.row.direction if s.row else '?'}'" for s in unknown]
    what += [f"unknown column(s) {', '.join(foreign_columns)}"] if foreign_columns else []
    raise TargetRefused(f"dualpath_history holds what this dualpath does not know ({'; '.join(what)}): written by "
                        "a newer dualpath, or edited by hand; nothing ran",
                        hint="run the dualpath version that wrote it (pip install -U dualpath); if the rows or "
                             "columns were added by hand, remove them")


def refuse_unrecorded(states: list[ChangeState]) -> None:
    """History rows deleted (or the table dropped) while the audit log saw the changes applied: running
    would apply them twice, or roll back the wrong change."""
    lost = [s for s in states if s.state == "unrecorded"]
    if not lost:
        return
    listed = "; ".join(f"{s.version} ({s.where}), recorded applied by run {s.fact.run_id if s.fact else '?'}"
                       f"{' at ' + str(s.fact.at) if s.fact else ''}" for s in lost)
    raise TargetRefused(f"dualpath_history has no row saying these changes are applied, yet dualpath_audit "
                        f"records them applied: {listed}; their history rows were deleted or the table "
                        "dropped; nothing ran",
                        hint="if the database still holds these changes (it should: compare `dualpath status`), "
                             "run `dualpath repair` to restore their history rows from dualpath_audit; then "
                             "run this again")


def refuse_renamed(states: list[ChangeState]) -> None:
    """A pending file with the very statements of an applied change whose file is gone: a renamed file,
    which apply would run a second time."""
    missing = {s.row.checksum: s for s in states if s.state == "missing" and s.row is not None}
    for s in states:
        if s.state == "pending" and s.change is not None and s.change.checksum in missing:
            was = missing[s.change.checksum]
            raise TargetRefused(
                f"version {s.version} ({s.change.where}) holds the same statements as version {was.version}, "
                f"which is applied and whose file {was.recorded_file or ''} is gone: the file was renamed, and "
                "applying it would run the change twice; nothing ran", where=s.change.where,
                hint=f"give the file back its version {was.version} (its recorded name), or if it is meant as "
                     "a new change, change its statements")


def warn_missing_and_renamed(states: list[ChangeState], echo: Echo) -> None:
    for s in states:
        if s.state == "missing":
            echo(f"warning: version {s.version} {s.description} is applied on the target but its file is gone "
                 f"{s.where}: deleted or renamed? Rolling it back is impossible until the file is restored")
        elif s.renamed_from is not None:
            echo(f"warning: version {s.version} was applied as '{s.renamed_from}' and its file now says "
                 f"'{s.description}' (renamed?); `dualpath repair` records the new description")


def out_of_order(states: list[ChangeState], todo: list[Change]) -> list[Change]:
    """Changes about to be applied whose version is below the highest applied one."""
    applied = [version_key(s.version) for s in states
               if s.state in ("applied", "drifted", "missing") and not is_repeatable(s.version)]
    if not applied:
        return []
    top = max(applied)
    return [c for c in todo if c.sort_key < top and not is_repeatable(c.version)]


def check_out_of_order(states: list[ChangeState], todo: list[Change], allowed: bool, echo: Echo) -> None:
    """Warn about a change slotted below what is applied; refuse it where the environment says so."""
    late = out_of_order(states, todo)
    if not late:
        return
    top = max((s for s in states if s.state in ("applied", "drifted", "missing") and not is_repeatable(s.version)),
              key=lambda s: version_key(s.version))
    listed = ", ".join(f"{c.version} ({c.where})" for c in late)
    if not allowed:
        raise TargetRefused(f"change(s) {listed} come before version {top.version}, which is applied already: "
                            "applying them now runs them out of order; nothing ran",
                            hint="give them versions above the last applied one, or if order does not matter "
                                 "here, set [apply] out_of_order = true in dualpath.toml (see "
                                 "docs/configuration.md)")
    echo(f"warning: applying out of order: {listed} come before version {top.version}, applied already")
