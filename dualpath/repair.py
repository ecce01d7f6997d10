"""Re-baseline a target after a deliberate edit or a failure that was cleaned up by hand."""

from __future__ import annotations

from sqlalchemy import Connection

from dualpath import history
from dualpath.history import Actor
from dualpath.status import ChangeState


def repair_states(conn: Connection, states: list[ChangeState], actor: Actor) -> list[str]:
    """Drifted → recorded with the file's checksum; failed → marked not applied; unrecorded (history row
    deleted, the audit log saw it applied) → its history row restored; a renamed file → its new
    description recorded. Returns what changed."""
    done: list[str] = []
    for s in states:
        if s.state == "unrecorded" and s.fact is not None:
            checksum = s.change.checksum if s.change else s.row.checksum if s.row else ""
            history.record(conn, actor, version=s.version, description=s.description, checksum=checksum,
                           direction="repair", duration_ms=0, success=True,
                           detail={"history_restored_from_audit": s.fact.run_id, "file": s.recorded_file})
            done.append(f"{s.version}: history restored from dualpath_audit (applied by run {s.fact.run_id}); "
                        "the change is applied again")
            continue
        if s.renamed_from is not None and s.state == "applied" and s.change is not None:
            history.record(conn, actor, version=s.version, description=s.change.description,
                           checksum=s.change.checksum, direction="repair", duration_ms=0, success=True,
                           detail={"previous_description": s.renamed_from})
            done.append(f"{s.version}: description '{s.renamed_from}' re-recorded as '{s.change.description}'")
            continue
        if s.state == "drifted" and s.change is not None and s.row is not None:
            history.record(conn, actor, version=s.version, description=s.change.description,
                           checksum=s.change.checksum, direction="repair", duration_ms=0, success=True,
                           detail={"previous_checksum": s.row.checksum})
            done.append(f"{s.version}: re-baselined checksum {s.row.checksum[:12]} → {s.change.checksum[:12]}")
        elif s.state == "failed" and s.row is not None:
            history.record(conn, actor, version=s.version, description=s.description,
                           checksum=s.change.checksum if s.change else s.row.checksum, direction="down",
                           duration_ms=0, success=True, detail={"repair": "failed attempt cleared", **s.row.detail})
            forgotten = _forget_progress(conn, s.version)
            done.append(f"{s.version}: failed attempt cleared; the change is pending again"
                        + (f" and runs afresh ({forgotten} checkpoint/journal row(s) of the failed attempt "
                           "forgotten)" if forgotten else ""))
    done += clear_interrupted(conn, states)
    for line in done:
        history.audit(conn, actor, "repair", version=line.split(":", 1)[0], detail={"what": line})
    return done


def _forget_progress(conn: Connection, version: str) -> int:
    """The repair row starts a new attempt (dualpath/attempts.py): the failed one's progress no longer counts."""
    from dualpath.attempts import progress_rows
    from dualpath.batching import checkpoint

    rows = len(progress_rows(conn, [version]))
    if rows:
        checkpoint.forget(conn, version)
    return rows


def clear_interrupted(conn: Connection, states: list[ChangeState]) -> list[str]:
    """A change a killed run left half-way keeps a statement journal so the next run resumes it; after
    the person undid those statements by hand, repair drops it so the change starts afresh."""
    applied = {s.version for s in states if s.state == "applied"}
    cleared: list[str] = []
    for version in sorted({row.version for row in history.journal_all(conn)}):
        done = [row.location for row in history.journal_of(conn, version, "up").values()]
        done += [row.location for row in history.journal_of(conn, version, "down").values()]
        history.journal_forget(conn, version)
        now = "applied" if version in applied else "pending"
        cleared.append(f"{version}: journal of an interrupted run cleared ({', '.join(done)}); "
                       f"the change is {now} and runs afresh")
    return cleared
