"""`dualpath demo`: the story of one migration on examples/shop, on embedded defaults (SQLite).

Forward, back, forward again — with the schema fingerprint proving the way back really
restores the schema the way forward started from.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from dualpath.config import load_settings
from dualpath.errors import UsageError, VerificationFailed
from dualpath.session import Session
from dualpath.target import resolve_target

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "shop"


def run_demo(keep: Path | None, echo: Callable[[str], None] = print) -> None:
    if not (EXAMPLE / "migrations").is_dir():
        raise UsageError(f"the bundled example is missing at {EXAMPLE}",
                         hint="run the demo from a clone of the dualpath repository")
    with tempfile.TemporaryDirectory(prefix="dualpath-demo-") as scratch:
        db = keep or Path(scratch) / "shop.db"
        db.unlink(missing_ok=True)
        settings = load_settings(EXAMPLE / "dualpath.toml")
        target = resolve_target(settings, f"sqlite:///{db}", EXAMPLE / "migrations")
        session = Session(settings, target, echo)
        _tell_story(session, echo)


def _tell_story(session: Session, echo: Callable[[str], None]) -> None:
    changes = session.changes
    echo(f"[bold]1. read[/] {session.target.migrations}: {session.layout} layout, {len(changes)} changes")
    session.engine.ensure_exists()
    with session.engine.connect() as conn:
        before = session.engine.fingerprint(conn)
    echo(f"[bold]2. apply[/] on {session.target_label}")
    session.runner().apply()
    with session.engine.connect() as conn:
        after = session.engine.fingerprint(conn)
    echo(f"   schema fingerprint {before.digest[:12]} → {after.digest[:12]}")
    echo("[bold]3. status[/]")
    for s in session.states():
        echo(f"   {s.version:>4}  {s.state:<8} {s.description}")
    echo(f"[bold]4. rollback[/] all {len(changes)} changes, newest first")
    session.runner().rollback(steps=len(changes))
    with session.engine.connect() as conn:
        back = session.engine.fingerprint(conn)
    restored = back.digest == before.digest
    echo(f"   fingerprint after rollback {back.digest[:12]}: "
         + ("[green]identical to the start[/]" if restored else "[red]DIFFERS[/] " + "; ".join(back.diff(before))))
    echo("[bold]5. apply again[/]")
    session.runner().apply()
    with session.engine.connect() as conn:
        again = session.engine.fingerprint(conn)
    same = again.digest == after.digest
    echo("   fingerprint " + ("[green]identical to the first apply[/]" if same else "[red]DIFFERS[/]"))
    if not (restored and same):
        raise VerificationFailed("the round trip did not restore the schema", hint="see the differences above")
    echo("[green]done:[/] every change went forward, back and forward again with the schema proven identical")
