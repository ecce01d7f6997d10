"""Re-baseline a target after a deliberate edit or a failure that was cleaned up by hand."""

from __future__ import annotations

from sqlalchemy import Connection

from dualpath import history
from dualpath.history import Actor
from dualpath.status import ChangeState


def repair_states(conn: Connection, states: list[ChangeState], actor: Actor) -> list[str]:
    """Drifted → recorded with the file's checksum; failed → marked not applied. Returns what changed."""
    done: list[str] = []
    for s in states:
        if s.state == "drifted" and s.change is not None and s.row is not None:
            history.record(conn, actor, version=s.version, description=s.change.description,
                           checksum=s.change.checksum, direction="repair", duration_ms=0, success=True,
                           detail={"previous_checksum": s.row.checksum})
            done.append(f"{s.version}: re-baselined checksum {s.row.checksum[:12]} → {s.change.checksum[:12]}")
        elif s.state == "failed" and s.row is not None:
            history.record(conn, actor, version=s.version, description=s.description,
                           checksum=s.change.checksum if s.change else s.row.checksum, direction="down",
                           duration_ms=0, success=True, detail={"repair": "failed attempt cleared", **s.row.detail})
            done.append(f"{s.version}: failed attempt cleared; the change is pending again")
    for line in done:
        history.audit(conn, actor, "repair", version=line.split(":", 1)[0], detail={"what": line})
    return done
