"""Changes an earlier run left half-way, and why a rollback refuses to go past them.

Where statements commit on their own (MySQL/MariaDB DDL, no-transaction statements, batches) a
change can stop after part of it stayed: its failure row lists what ran, and a killed run leaves its
statement journal and batch checkpoints. Such a change is neither applied nor pending. Its rollback
file undoes the whole change, so running it could undo what never ran (``DROP TABLE a`` of a
``CREATE TABLE a`` that failed because a was already there drops an older change's table); and which
rollback statement pairs with which forward one is not knowable. So a rollback that reaches it
refuses before anything runs, names what of it stays, and says how to settle it first.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from dualpath import history
from dualpath.batching import checkpoint
from dualpath.errors import TargetRefused
from dualpath.status import ChangeState


@dataclass(frozen=True)
class Unsettled:
    state: ChangeState
    direction: str  # the run that left it half-way: "up" (apply) or "down" (rollback)
    ran: tuple[str, ...]  # file:line of statements done and committed
    in_doubt: tuple[str, ...]  # started by a killed run and never recorded as done, or a batch part-way
    failed_at: str | None  # the failure row's statement and error; None: the run was killed
    resumable: bool  # a re-run of the same command picks up after what ran


def find_unsettled(conn: Connection, states: list[ChangeState]) -> dict[str, Unsettled]:
    """By version: failed changes that left statements behind, and changes a killed run left in the
    statement journal or batch checkpoints of their current attempt (dualpath/attempts.py)."""
    candidates = {s.version: s for s in states if s.change is not None and s.state in ("pending", "failed")}
    if not candidates:
        return {}
    progress = _progress(conn, candidates)
    found: dict[str, Unsettled] = {}
    for version, s in candidates.items():
        row = s.row
        failed = s.state == "failed" and row is not None
        direction = row.direction if failed and row is not None else "up"
        ran, in_doubt = progress.get((version, direction), ([], []))
        detail = row.detail if failed and row is not None else {}
        recorded = [str(w) for w in detail.get("ran", [])]
        ran = recorded + [w for w in ran if w not in recorded]
        stays = not detail.get("rolled_back", True) if failed else False
        if not (stays or ran or in_doubt):
            continue  # rolled back as a whole, or never started: simply not applied
        failed_at = (f"at {detail.get('failed_at') or s.where}: {detail.get('error', 'failed')}" if failed else None)
        found[version] = Unsettled(s, direction, tuple(ran), tuple(in_doubt), failed_at,
                                   resumable=not failed or bool(detail.get("resumable")))
    return found


Progress = dict[tuple[str, str], tuple[list[str], list[str]]]


def _progress(conn: Connection, candidates: dict[str, ChangeState]) -> Progress:
    """(version, direction) -> (locations done, locations in doubt), rows of the current attempt only."""
    def current(version: str, attempt: str | None) -> bool:
        s = candidates.get(version)
        now = s.row.attempt if s is not None and s.row is not None else history.NO_ATTEMPT
        return s is not None and (attempt == now or (attempt is None and now == history.NO_ATTEMPT))

    out: Progress = {}
    for j in history.journal_all(conn):
        if current(j.version, j.attempt):
            done, doubt = out.setdefault((j.version, j.direction), ([], []))
            (done if j.state == history.DONE else doubt).append(j.location)
    for c in checkpoint.all_rows(conn):
        if current(c.version, c.attempt):
            done, doubt = out.setdefault((c.version, c.direction), ([], []))
            if c.state == checkpoint.DONE:
                done.append(c.location)
            else:
                doubt.append(f"{c.location} (batch {c.state}, {c.rows_done} row(s) done)")
    conn.commit()
    return out


def refusal(u: Unsettled) -> TargetRefused:
    """Exit 3 before anything runs: which change, what of it stays, and how to settle it."""
    s, change = u.state, u.state.change
    assert change is not None  # find_unsettled keeps changes with a file only
    run = "apply" if u.direction == "up" else "rollback"
    statements = change.forward if u.direction == "up" else change.rollback
    text = {st.where: " ".join(st.text.split()) for st in statements}
    ran = "; ".join(f"{w} `{_short(text.get(w, ''))}`" if text.get(w) else w for w in u.ran) or "none complete"
    doubt = f"; in doubt (started, never recorded as done): {', '.join(u.in_doubt)}" if u.in_doubt else ""
    if u.failed_at is None:
        what = f"an earlier {run} was interrupted inside it"
    elif u.direction == "up":
        what = f"it failed half-way in an earlier apply ({u.failed_at})"
    else:
        what = f"its rollback failed half-way in an earlier run ({u.failed_at})"
    other = change.rollback if u.direction == "up" else change.forward
    pair = other[0].file if other else "its other file"
    message = (f"version {s.version} {s.description}: {what}; statements that ran and stay: {ran}{doubt}. "
               f"Its rollback cannot simply run (it may undo what never ran); nothing was rolled back")
    by_hand = (f"undo by hand what ran (the matching statements of {pair}), then `dualpath repair` marks "
               f"version {s.version} not applied" if u.direction == "up" else
               f"finish its rollback by hand (the statements of {pair} that did not run), then `dualpath repair` "
               f"marks version {s.version} not applied")
    if u.resumable:
        hint = (f"finish it first: `dualpath {run}` resumes after the statements that ran"
                + (f" (`dualpath apply --to {s.version}`)" if run == "apply" else "")
                + f"; or {by_hand}; then run the rollback again")
    else:
        hint = f"{by_hand}; then run the rollback again"
    return TargetRefused(message, where=change.where, hint=hint)


def _short(sql: str, width: int = 60) -> str:
    return sql if len(sql) <= width else sql[: width - 1] + "…"
