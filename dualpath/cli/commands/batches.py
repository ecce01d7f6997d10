"""`dualpath batches status|pause|resume|cancel|reset`: watch and steer batches from another terminal.

State lives in the target's dualpath_batch_checkpoint table; a running batch reads it between
chunks, so pause holds it after the chunk in flight and cancel stops it there.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from dualpath.cli.console import ConfigOpt, UrlOpt, handle_errors, out

VersionOpt = Annotated[str | None, typer.Option("--version", help="only this change's batches (default: all)")]
batches_app = typer.Typer(no_args_is_help=True, help="Batched data changes: status, pause, resume, cancel, reset.")


def _engine(url: str | None, config: Any) -> Any:
    from dualpath.config import find_config, load_settings
    from dualpath.engines import open_engine
    from dualpath.target import resolve_target

    target = resolve_target(load_settings(find_config(config)), url, None)
    return open_engine(target.url)


def _who() -> str:
    from pathlib import Path

    from dualpath.history import make_actor

    return make_actor("batches", Path.cwd()).who


@batches_app.command("status")
@handle_errors
def status_cmd(url: UrlOpt = None, config: ConfigOpt = None, version: VersionOpt = None,
               format: Annotated[str, typer.Option("--format", help="text|json")] = "text") -> None:
    """Each batch: change, statement, state, rows done, last key, when it last moved."""
    from rich.table import Table

    from dualpath.batching import checkpoint as cp

    if format not in ("text", "json"):
        raise typer.BadParameter("--format must be text or json")
    with _engine(url, config).connect() as conn:
        rows = [r for r in cp.all_rows(conn) if r.table_name and (version is None or r.version == version)]
    if format == "json":
        print(json.dumps([_as_json(r) for r in rows], indent=2))
        return
    if not rows:
        out.print("no batches on this target")
        return
    table = Table()
    for col in ("version", "dir", "table", "state", "rows done", "scanned", "last key", "updated"):
        table.add_column(col, overflow="fold")
    for r in rows:
        by = f" by {r.updated_by}" if r.updated_by else ""
        table.add_row(r.version, r.direction, r.table_name or "", r.state, f"{r.rows_done:,}", f"{r.keys_done:,}",
                      r.last_key or "", f"{r.updated_at:%Y-%m-%d %H:%M:%S}{by}")
    out.print(table)


def _as_json(r: Any) -> dict[str, Any]:
    return {"version": r.version, "direction": r.direction, "statement": r.location, "table": r.table_name,
            "state": r.state, "rows_done": r.rows_done, "keys_done": r.keys_done, "chunk_size": r.chunk_size,
            "last_key": json.loads(r.last_key) if r.last_key else None, "run_id": r.run_id,
            "updated_at": r.updated_at.isoformat(), "updated_by": r.updated_by}


def _move(url: str | None, config: Any, version: str | None, new: str, from_states: tuple[str, ...],
          verb: str) -> None:
    from dualpath.batching import checkpoint as cp
    from dualpath.errors import UsageError

    with _engine(url, config).connect() as conn:
        if not cp.table_exists(conn):
            raise UsageError("no batches on this target", hint="batches appear once dualpath apply runs one")
        conn.commit()
        with conn.begin():
            moved = [r for r in cp.set_state(conn, new, from_states=from_states, who=_who(), version=version)
                     if r.table_name]
    if not moved:
        states = " or ".join(from_states)
        raise UsageError(f"no {states} batch{' of version ' + version if version else ''} to {verb}",
                         hint="see dualpath batches status")
    for r in moved:
        out.print(f"{verb}d {r.version} {r.direction} {r.location} ({r.state} → {new}, {r.rows_done:,} rows done)",
                  markup=False)


@batches_app.command("pause")
@handle_errors
def pause_cmd(url: UrlOpt = None, config: ConfigOpt = None, version: VersionOpt = None) -> None:
    """Hold running batches after their current chunk (the run waits; resume continues it)."""
    from dualpath.batching.checkpoint import PAUSED, RUNNING

    _move(url, config, version, PAUSED, (RUNNING,), "pause")


@batches_app.command("resume")
@handle_errors
def resume_cmd(url: UrlOpt = None, config: ConfigOpt = None, version: VersionOpt = None) -> None:
    """Let paused or cancelled batches go on (a cancelled one continues at the next dualpath apply)."""
    from dualpath.batching.checkpoint import CANCELLED, PAUSED, RUNNING

    _move(url, config, version, RUNNING, (PAUSED, CANCELLED), "resume")


@batches_app.command("cancel")
@handle_errors
def cancel_cmd(url: UrlOpt = None, config: ConfigOpt = None, version: VersionOpt = None) -> None:
    """Stop batches after their current chunk; the run fails (exit 4) with every chunk so far committed."""
    from dualpath.batching.checkpoint import CANCELLED, PAUSED, RUNNING

    _move(url, config, version, CANCELLED, (RUNNING, PAUSED), "cancel")


@batches_app.command("reset")
@handle_errors
def reset_cmd(version: Annotated[str, typer.Option("--version", help="the change whose progress to forget")],
              url: UrlOpt = None, config: ConfigOpt = None) -> None:
    """Forget a change's batch progress so the next run starts it over (check what ran first)."""
    from dualpath.batching import checkpoint as cp
    from dualpath.errors import UsageError

    with _engine(url, config).connect() as conn:
        exists = cp.table_exists(conn)
        conn.commit()
        with conn.begin():
            gone = cp.forget(conn, version) if exists else 0
    if not gone:
        raise UsageError(f"no batch progress recorded for version {version}", hint="see dualpath batches status")
    out.print(f"forgot {gone} checkpoint row(s) of version {version}")


def register(app: typer.Typer) -> None:
    app.add_typer(batches_app, name="batches",
                  help="Batched data changes: status, pause, resume, cancel, reset (from any terminal).")
