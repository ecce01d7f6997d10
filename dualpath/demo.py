"""`dualpath demo`: the whole story on the bundled shop example, on embedded defaults.

1. the way back is proven: every reversible change goes forward, back and forward again on a
   scratch SQLite database, and the schema fingerprint shows the way back restores the schema;
2. three shop tenants (SQLite files, or databases on the server given with --url) stand at
   yesterday's release with some customers;
3. the Prefect migrate flow takes them to the newest version: pre-flight, backups, an approval
   (the release drops a column: irreversible), the canary tenant, then a wave of two, a report.

The example ships inside the package (dualpath/examples, package data) and is copied into the demo's
folder, so nothing is written inside the installation. Without --keep that folder (and the tenant
databases the demo made on a server) is removed at the end.

Prefect is imported only inside ``run_demo``'s ``run_flow``: the core demo steps stay Prefect-free.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from dualpath import history
from dualpath.apply import Runner, new_run_id
from dualpath.changes import Change
from dualpath.config import load_settings
from dualpath.engines import open_engine
from dualpath.errors import DualpathError, UsageError, VerificationFailed
from dualpath.session import Session
from dualpath.sources import read_changes
from dualpath.target import resolve_target
from dualpath.urls import endpoint, parse_url, reveal, safe_url

TENANTS = ("north", "south", "east")
YESTERDAY = "4"  # the release the tenants stand at before the demo's run
Echo = Callable[[str], None]
Ask = Callable[[str], dict[str, Any]]
# (Prefect home, flow parameters, ask, echo) → the flow's result; the CLI hands in dualpath.flows.local's
# server and runner, so the demo (core) never imports the flows. The result's "prefect_home" is set when
# the run was on a throwaway server started for the demo (gone when the demo ends).
RunFlow = Callable[[Path, dict[str, Any], Ask | None, Echo], dict[str, Any]]


def bundled_example() -> Path:
    """The shop example installed with the package (dualpath/examples/shop, package data)."""
    found = resources.files("dualpath").joinpath("examples", "shop")
    if not isinstance(found, Path) or not (found / "migrations").is_dir():
        raise UsageError(f"the bundled example is missing at {found}",
                         hint="reinstall dualpath (pip install --force-reinstall dualpath); the demo reads "
                              "dualpath/examples/shop from the installed package")
    return found


def run_demo(keep: Path | None, run_flow: RunFlow, echo: Echo = print, url: str | None = None,
             approve: bool = False, ask: Ask | None = None, force: bool = False) -> dict[str, Any]:
    """The three acts; returns the flow's result (outcome, tenants, report path, UI link). Without
    ``keep`` the demo's folder and the databases it made on ``url``'s server are removed at the end."""
    bundled = bundled_example()
    if url is not None:
        refuse_existing_databases(url, force)
    work = keep or Path(tempfile.mkdtemp(prefix="dualpath-demo-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        example = copy_example(bundled, work / "shop")
        prove_round_trip(work / "round-trip.db", echo, example)
        tenants = prepare_tenants(work, url, echo, example)
        config = write_config(work, tenants, example)
        echo(f"[bold]3. migrate[/] the tenants with the Prefect flow (config {config})")
        params = {"env": "demo", "config": str(config), "approve": approve, "report_dir": str(work)}
        result = run_flow(work / "prefect", params, None if approve else ask, echo)
        show_result(result, tenants, echo, example, kept=keep is not None)
        return result
    finally:
        if keep is None:
            clean_up(work, url, echo)


def copy_example(bundled: Path, folder: Path) -> Path:
    """The example's files into the demo's folder: its caches and backups land there, not in the package."""
    shutil.copytree(bundled, folder, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".dualpath", "__pycache__"))
    return folder


def demo_databases(url: str) -> list[str]:
    """The tenant databases the demo makes on ``url``'s server: <database>_north, _south, _east."""
    return [f"{parse_url(url).database or 'shop'}_{name}" for name in TENANTS]


def refuse_existing_databases(url: str, force: bool) -> None:
    """The demo drops and recreates its tenant databases: never ones that exist already, unless forced."""
    server = open_engine(url)
    try:
        existing = [name for name in demo_databases(url) if server.database_exists(name)]
    except NotImplementedError:  # a file, not a server
        raise UsageError(f"--url {safe_url(parse_url(url))} is a SQLite file, not a database server",
                         hint="give a PostgreSQL or MariaDB server URL, or leave --url out for SQLite files") from None
    if existing and not force:
        raise UsageError(f"the demo would drop and recreate {', '.join(existing)} on {endpoint(parse_url(url))}, "
                         "and they exist already",
                         hint="pass --force to drop and recreate them, or name another database in --url "
                              "(the demo makes <database>_north, _south and _east)")


def clean_up(work: Path, url: str | None, echo: Echo) -> None:
    """Remove what the demo made: its folder, and its tenant databases on a server."""
    if url is not None:
        try:
            server = open_engine(url)
            for name in demo_databases(url):
                server.drop_database(name)
        except DualpathError as exc:  # the demo's own outcome (or error) matters more: say it, go on
            echo(f"could not drop the demo's tenant databases ({exc.message}); drop {', '.join(demo_databases(url))} "
                 "by hand")
    shutil.rmtree(work, ignore_errors=True)
    made = "folder and tenant databases" if url is not None else "folder"
    echo(f"removed the demo's {made} ({work}); run `dualpath demo --keep DIR` to keep them")


def prove_round_trip(db: Path, echo: Echo, example: Path | None = None) -> None:
    """Forward, back, forward again through the reversible changes, fingerprints compared."""
    example = example or bundled_example()
    db.unlink(missing_ok=True)
    settings = load_settings(example / "dualpath.toml")
    # the rollback drops tables, so it is backed up first: into the scratch folder, not the repository
    settings.backup = {**settings.backup, "destination": (db.parent / "backups").resolve().as_uri()}
    session = Session(settings, resolve_target(settings, f"sqlite:///{db}", example / "migrations"),
                      lambda _line: None)
    reversible = _reversible(session.changes)
    last = reversible[-1].version
    echo(f"[bold]1. prove the way back[/] on {db.name}: {session.layout} layout, {len(session.changes)} changes, "
         f"{len(reversible)} reversible")
    session.engine.ensure_exists()
    before, after = _digest(session), None
    session.runner().apply(to=last)
    after = _digest(session)
    echo(f"   applied 1..{last}: schema fingerprint {before[:12]} → {after[:12]}")
    session.runner().rollback(steps=len(reversible))
    back = _digest(session)
    restored = back == before
    echo(f"   rolled back {len(reversible)} changes: fingerprint {back[:12]} "
         + ("[green]identical to the start[/]" if restored else "[red]DIFFERS[/]"))
    session.runner().apply(to=last)
    same = _digest(session) == after
    echo("   applied again: fingerprint " + ("[green]identical to the first apply[/]" if same else "[red]DIFFERS[/]"))
    if not (restored and same):
        raise VerificationFailed("the round trip did not restore the schema", hint="see the differences above")


def _reversible(changes: list[Change]) -> list[Change]:
    first_irreversible = next((i for i, c in enumerate(changes) if c.irreversible is not None), len(changes))
    return changes[:first_irreversible]


def _digest(session: Session) -> str:
    with session.engine.connect() as conn:
        return session.engine.fingerprint(conn).digest


def prepare_tenants(work: Path, url: str | None, echo: Echo, example: Path | None = None) -> dict[str, str]:
    """Fresh tenant databases at yesterday's release, each with a few customers and orders."""
    example = example or bundled_example()
    echo(f"[bold]2. tenants[/] {', '.join(TENANTS)} at version {YESTERDAY}, with customers")
    tenants: dict[str, str] = {}
    for index, name in enumerate(TENANTS, start=1):
        tenant_url = _fresh_database(work, url, name)
        engine = open_engine(tenant_url)
        changes = read_changes(example / "migrations", dialect=engine.name)
        actor = history.make_actor(new_run_id(), example / "migrations", "demo")
        target = resolve_target(load_settings(example / "dualpath.toml"), tenant_url, example / "migrations")
        Runner(target, engine, changes, actor, echo=lambda _line: None).apply(to=YESTERDAY)
        _seed(engine, index)
        tenants[name] = tenant_url
        echo(f"   {name}: {safe_url(parse_url(tenant_url))}")
    return tenants


def _fresh_database(work: Path, url: str | None, name: str) -> str:
    if url is None:
        path = work / f"shop_{name}.db"
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    server = open_engine(url)
    database = f"{parse_url(url).database or 'shop'}_{name}"
    server.drop_database(database)
    created = server.create_database(database)
    return reveal(created)


def _seed(engine: Any, tenant: int) -> None:
    from sqlalchemy import text

    with engine.connect() as conn, conn.begin():
        for i in range(1, 6):
            cid = tenant * 100 + i
            conn.execute(text("INSERT INTO customers (id, tenant_id, email, name) VALUES (:id, :t, :e, :n)"),
                         {"id": cid, "t": tenant, "e": f"c{cid}@shop.example", "n": f"Customer {cid}"})
            conn.execute(text("INSERT INTO orders (id, tenant_id, customer_id, total_cents) VALUES (:id, :t, :c, :s)"),
                         {"id": cid, "t": tenant, "c": cid, "s": 1000 + i})


def write_config(work: Path, tenants: dict[str, str], example: Path | None = None) -> Path:
    """The demo's dualpath.toml: the example's migrations, an environment "demo" with the tenants."""
    example = example or bundled_example()
    lines = [f'migrations = "{(example / "migrations").as_posix()}"', "", "[environments.demo]",
             'canary = ["north"]', "wave_size = 2", 'approval = "irreversible"',
             f'backup_to = "file://{(work / "backups").as_posix()}"', "approval_timeout_s = 600", ""]
    for name, url in tenants.items():
        lines += ["[[environments.demo.tenants]]", f'name = "{name}"', f'url = "{url}"', ""]
    path = work / "dualpath.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def show_result(result: dict[str, Any], tenants: dict[str, str], echo: Echo, example: Path,
                kept: bool) -> None:
    from dualpath.tenants import TenantTarget, read_version

    echo(f"[bold]4. result[/]: {result['outcome']}")
    for name in tenants:
        version = read_version(TenantTarget(name, tenants[name]), example / "migrations")
        echo(f"   {name:<6} version {version.version}  {version.state}")
    for note in result.get("notes", []):
        echo(f"   note: {note}")
    echo(f"   report: {result.get('report')}" + ("" if kept else " (removed with the demo's folder)"))
    echo(f"   Prefect run: {result.get('ui') or 'n/a'} (artifacts: dualpath-demo-report, dualpath-demo-tenants)")
    for line in server_notes(result, kept):
        echo(f"   {line}")


def server_notes(result: dict[str, Any], kept: bool) -> list[str]:
    """A run on the demo's own throwaway server: its link stops answering when the demo ends; say so,
    and with --keep how to open it again (the server's database stays in the kept folder)."""
    home, api = result.get("prefect_home"), result.get("prefect_api")
    if not home or not api:
        return []  # a Prefect server of the user's (PREFECT_API_URL): the link stays good
    if not kept:
        return ["the demo's Prefect server stopped with the demo, so the link above no longer answers; "
                "run `dualpath demo --keep DIR` to keep the server's database and open the run later"]
    port = str(api).rsplit(":", 1)[1].split("/", 1)[0]
    return ["the demo's Prefect server stopped with the demo; to open the link above again, start it on its "
            f"kept database: PREFECT_HOME={home} PREFECT_SERVER_UI_API_URL={api} "
            f"prefect server start --host 127.0.0.1 --port {port}"]
