"""Schema-per-tenant on a real PostgreSQL: tenants are schemas of one database, each named by
search_path in its URL's libpq options. History, status, fingerprints, shadows, run locks, gates,
backups and the Prefect rollout in waves all stay inside the tenant's schema."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text

from dualpath.engines import open_engine
from dualpath.errors import TargetRefused
from tests.integration.dbs import server_database
from tests.integration.helpers import run_cli

pytestmark = pytest.mark.integration

MIGRATIONS = Path(__file__).resolve().parents[2] / "examples" / "shop" / "migrations"
SCHEMAS = ("a", "b", "c")
HOLD = """
import sys, time
from dualpath.engines import open_engine
with open_engine(sys.argv[1]).run_lock("run-H1", "holder.example"):
    print("locked", flush=True)
    time.sleep(600)
"""


def tenant_url(database_url: str, name: str) -> str:
    return f"{database_url}?options=-csearch_path%3Dtenant_{name}"


@pytest.fixture
def shared_db(request: pytest.FixtureRequest) -> Iterator[str]:
    """One fresh database holding the (empty) schemas tenant_a, tenant_b, tenant_c."""
    with server_database("postgresql", request.node.name) as url:
        sql(url, *(f"CREATE SCHEMA tenant_{n}" for n in SCHEMAS))
        yield url


def sql(url: str, *statements: str) -> list[Any]:
    """Run statements on the database itself (no tenant scope); the last one's rows when it returns any."""
    engine = create_engine(url.split("?")[0])
    rows: list[Any] = []
    try:
        with engine.begin() as conn:
            for statement in statements:
                result = conn.execute(text(statement))
                rows = list(result) if result.returns_rows else []
    finally:
        engine.dispose()
    return rows


def write_config(folder: Path, database_url: str, backup_scope: str = "tables", **env: object) -> Path:
    """Targets a, b, c and an environment "schemas": the three schema tenants, canary a, waves of 2."""
    template = tenant_url(database_url, "{tenant}")
    settings = {"tenant_url_template": json.dumps(template), "tenant_names": '["a", "b", "c"]',
                "canary": '["a"]', "wave_size": "2", "approval": '"irreversible"',
                "backup_to": json.dumps(f"file://{folder / 'backups'}"), "host_concurrency": "2"}
    settings.update({k: json.dumps(v) if isinstance(v, str) else str(v) for k, v in env.items()})
    lines = [f"migrations = {json.dumps(str(MIGRATIONS))}", "[safety]", "lock_timeout_ms = 1000", "",
             "[backup]", f"destination = {json.dumps('file://' + str(folder / 'backups'))}",
             f"scope = {json.dumps(backup_scope)}", ""]
    for name in SCHEMAS:
        lines += [f"[targets.{name}]", f"url = {json.dumps(tenant_url(database_url, name))}", ""]
    lines += ["[environments.schemas]"] + [f"{k} = {v}" for k, v in settings.items()]
    path = folder / "dualpath.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def cli(config: Path, *args: str) -> Any:
    return run_cli(*args, "--config", str(config))


def states(config: Path, tenant: str) -> list[str]:
    result = cli(config, "status", "--url", tenant, "--format", "json")
    assert result.exit_code == 0, result.output
    return [row["state"] for row in json.loads(result.stdout)]


def digest(url: str) -> str:
    engine = open_engine(url)
    with engine.connect() as conn:
        return engine.fingerprint(conn).digest


def tables_by_schema(url: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for schema, table in sql(url, "SELECT table_schema, table_name FROM information_schema.tables "
                                  "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')"):
        found.setdefault(schema, set()).add(table)
    return found


def app_tables(tables: set[str]) -> set[str]:
    return {t for t in tables if not t.startswith("dualpath_")}


# -- one database, three tenants, each on its own -------------------------------------------


def test_apply_rollback_and_status_touch_only_their_own_schema(shared_db: str, tmp_path: Path) -> None:
    # scope "database": `dualpath rollback`'s table backup misses schema tenants (see the xfail below)
    config = write_config(tmp_path, shared_db, backup_scope="database")
    assert cli(config, "apply", "--url", "a", "--to", "4").exit_code == 0
    assert cli(config, "apply", "--url", "b", "--to", "2").exit_code == 0

    assert states(config, "a") == ["applied"] * 4 + ["pending"] * 3
    assert states(config, "b") == ["applied"] * 2 + ["pending"] * 5
    assert states(config, "c") == ["pending"] * 7
    tables = tables_by_schema(shared_db)
    assert app_tables(tables["tenant_a"]) == {"customers", "orders", "order_notes"}
    assert app_tables(tables["tenant_b"]) == {"customers", "orders"}
    assert {"dualpath_history", "dualpath_audit"} <= tables["tenant_a"] & tables["tenant_b"]
    assert "tenant_c" not in tables and "public" not in tables  # status reads, it never creates
    b_before = digest(tenant_url(shared_db, "b"))

    back = cli(config, "rollback", "--url", "a", "--steps", "1")
    assert back.exit_code == 0, back.output
    assert states(config, "a") == ["applied"] * 3 + ["pending"] * 4
    assert states(config, "b") == ["applied"] * 2 + ["pending"] * 5
    assert digest(tenant_url(shared_db, "b")) == b_before
    assert "order_notes" not in tables_by_schema(shared_db)["tenant_a"]
    audited = sql(shared_db, "SELECT action, version FROM tenant_a.dualpath_audit ORDER BY id")
    assert [tuple(r) for r in audited][-1] == ("rollback", "4")
    assert not sql(shared_db, "SELECT 1 FROM tenant_b.dualpath_audit WHERE action = 'rollback'")


def test_terminal_rollback_backs_up_the_schema_tenants_table(shared_db: str, tmp_path: Path) -> None:
    config = write_config(tmp_path, shared_db)
    assert cli(config, "apply", "--url", "a", "--to", "4").exit_code == 0
    back = cli(config, "rollback", "--url", "a", "--steps", "1")
    assert back.exit_code == 0, back.output
    # pg_dump found the schema tenant's table: PGOPTIONS carries the URL's search_path
    listed = cli(config, "backup", "list", "--config", str(config), "--json")
    assert listed.exit_code == 0, listed.output
    backups = json.loads(listed.output)
    assert [b["tables"] for b in backups] == [["order_notes"]], listed.output  # V4's down drops it


def test_fingerprint_covers_the_tenants_schema_only_and_compares_across_tenants(shared_db: str,
                                                                               tmp_path: Path) -> None:
    config = write_config(tmp_path, shared_db)
    for name, version in (("a", "2"), ("b", "2"), ("c", "3")):
        assert cli(config, "apply", "--url", name, "--to", version).exit_code == 0
    a, c = open_engine(tenant_url(shared_db, "a")), open_engine(tenant_url(shared_db, "c"))
    with a.connect() as conn:
        print_a = a.fingerprint(conn)
    with c.connect() as conn:
        print_c = c.fingerprint(conn)
    assert set(print_a.objects["table"]) == {"customers", "orders"}  # bare names, no neighbour's tables
    assert print_a.digest == digest(tenant_url(shared_db, "b"))  # same version, same schema: same print
    assert print_a.digest != print_c.digest
    assert any("orders.currency" in diff for diff in print_c.diff(print_a))


# Every kind of object the fingerprint reads, with names the tenant's schema qualifies nowhere.
EVERY_KIND = [
    "CREATE TYPE mood AS ENUM ('sad', 'ok')",
    "CREATE DOMAIN cents AS integer CHECK (VALUE >= 0)",
    "CREATE SEQUENCE loose_seq START 7",
    "CREATE TABLE parent (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, code text UNIQUE, "
    "m mood, price cents DEFAULT 0, CONSTRAINT code_len CHECK (length(code) < 9))",
    "CREATE TABLE child (id serial PRIMARY KEY, parent_id bigint REFERENCES parent (id) ON DELETE CASCADE, "
    "total numeric(10, 2), slot int4range, EXCLUDE USING gist (slot WITH &&))",
    "CREATE INDEX child_total ON child (total DESC) WHERE total > 0",
    "CREATE VIEW big AS SELECT id, total FROM child WHERE total > 100",
    "CREATE MATERIALIZED VIEW counts AS SELECT parent_id, count(*) AS n FROM child GROUP BY parent_id",
    "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
    "CREATE TRIGGER child_touch BEFORE UPDATE ON child FOR EACH ROW EXECUTE FUNCTION touch()",
]


def test_a_tenant_schema_prints_like_a_database_of_its_own_beside_many_neighbours(shared_db: str) -> None:
    """The catalog reads of a schema tenant find its objects through pg_depend (no scan of every tenant's
    objects): whatever they find must be exactly what a database holding the same objects alone shows."""
    with server_database("postgresql", "fingerprint_alone") as alone:
        sql(alone, *EVERY_KIND)
        for name in ("a", "b"):  # a neighbour with the same objects: none of them may leak into a's print
            sql(shared_db, f"SET search_path TO tenant_{name}", *EVERY_KIND)
        engine = open_engine(tenant_url(shared_db, "a"))
        with engine.connect() as conn:
            tenant = engine.fingerprint(conn)
        engine = open_engine(alone)
        with engine.connect() as conn:
            database = engine.fingerprint(conn)
    assert tenant.diff(database) == []
    assert tenant.digest == database.digest
    assert {"parent", "child"} <= set(tenant.objects["table"]) and "child_total" in tenant.objects["index"]


def test_shadow_for_verify_holds_only_the_tenants_schema(shared_db: str, tmp_path: Path) -> None:
    config = write_config(tmp_path, shared_db)
    assert cli(config, "apply", "--url", "a", "--to", "4").exit_code == 0
    assert cli(config, "apply", "--url", "b", "--to", "2").exit_code == 0
    engine = open_engine(tenant_url(shared_db, "b"))
    shadow = engine.create_shadow()
    try:
        shadow_url = shadow.render_as_string(hide_password=False)
        schemas = tables_by_schema(shadow_url)
        assert set(schemas) == {"tenant_b"}  # not tenant_a's order_notes, not public
        assert digest(shadow_url) == digest(tenant_url(shared_db, "b"))
    finally:
        engine.drop_shadow(shadow)
    verified = cli(config, "verify", "--url", "b")
    assert verified.exit_code == 0, verified.output
    assert states(config, "b") == ["applied"] * 2 + ["pending"] * 5  # verify changed nothing on the tenant


def test_missing_schema_is_refused_with_what_to_create(shared_db: str, tmp_path: Path) -> None:
    config = write_config(tmp_path, shared_db)
    url = tenant_url(shared_db, "zz")
    for command in (["status", "--url", url], ["apply", "--url", url]):
        result = cli(config, *command)
        assert result.exit_code == 2, result.output
        assert "schema 'tenant_zz' does not exist" in result.output and 'CREATE SCHEMA "tenant_zz"' in result.output
        assert "Traceback" not in result.output
    assert tables_by_schema(shared_db) == {}  # nothing landed in public or anywhere else
    assert not sql(shared_db, "SELECT 1 FROM pg_namespace WHERE nspname = 'tenant_zz'")


# -- run locks: tenants of one database side by side, one tenant never twice -----------------


@contextmanager
def holder_process(url: str) -> Iterator[None]:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, url], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
        yield
    finally:
        proc.kill()
        proc.wait()


def test_two_tenants_run_at_once_while_a_second_run_on_one_tenant_is_refused(shared_db: str,
                                                                             tmp_path: Path) -> None:
    config = write_config(tmp_path, shared_db)
    a, b = open_engine(tenant_url(shared_db, "a")), open_engine(tenant_url(shared_db, "b"))
    with a.run_lock("run-1", "here"), b.run_lock("run-2", "here"):  # both held at once
        with pytest.raises(TargetRefused) as twice:
            with open_engine(tenant_url(shared_db, "a")).run_lock("run-3", "there"):
                pass
    assert "locked by run run-1" in twice.value.message and "schema tenant_a" in str(twice.value.where)

    with holder_process(tenant_url(shared_db, "a")):
        refused = cli(config, "apply", "--url", "a")
        other = cli(config, "apply", "--url", "b", "--to", "3")
        whole_db = open_engine(shared_db).current_holder()  # the database's own (public) key is free
    assert refused.exit_code == 3 and "run-H1" in refused.output and "holder.example" in refused.output
    assert other.exit_code == 0, other.output
    assert whole_db is None
    assert states(config, "a") == ["pending"] * 7
    assert states(config, "b") == ["applied"] * 3 + ["pending"] * 4


@pytest.mark.parametrize(("options", "schema"), [
    ("-csearch_path%3Dtenant_007", "tenant_007"),
    ("-c%20search_path%3DTenant_B,public", "tenant_b"),  # unquoted names fold to lower case
    ("--search-path%3D%22Tenant%5C%20C%22,public", "Tenant C"),  # quoted, a backslash-escaped space
    ("-c%20statement_timeout%3D5000%20-c%20search_path%3Dfirst%20-csearch_path%3Dsecond", "second"),
    ("-c%20search_path%3D%24user,public", None),  # depends on the role: the whole database
    ("-c%20statement_timeout%3D5000", None),
])
def test_search_path_in_the_url_names_the_tenant_schema(options: str, schema: str | None) -> None:
    from dualpath.tenants import TenantTarget

    assert TenantTarget("t", f"postgresql://app@db:5432/shop?options={options}").schema == schema


def test_protected_schema_tenants_protect_their_schema_and_the_whole_database(tmp_path: Path) -> None:
    from dualpath.config import load_settings
    from dualpath.target import resolve_target
    from dualpath.tenants import protecting_environment

    database = "postgresql://app@db:5432/shop"
    (tmp_path / "dualpath.toml").write_text(
        f"[environments.prod]\nprotected = true\ntenant_names = [\"a\"]\n"
        f"tenant_url_template = {json.dumps(tenant_url(database, '{tenant}'))}\n")
    settings = load_settings(tmp_path / "dualpath.toml")

    def guarded(url: str) -> str | None:
        return protecting_environment(settings, resolve_target(settings, url, tmp_path))

    assert guarded(tenant_url(database, "a")) == "prod"
    assert guarded(database) == "prod"  # the whole database holds the protected schema
    assert guarded(tenant_url(database, "b")) is None  # a neighbour schema is not that tenant
    assert guarded(tenant_url("postgresql://app@db:5432/other", "a")) is None


def test_lock_keys_name_database_and_schema() -> None:
    from dualpath.engines.postgres.engine import advisory_key

    keys = {advisory_key("shop", s) for s in ("tenant_a", "tenant_b", "TENANT_A")}
    assert len(keys) == 3 and advisory_key("shop", "tenant_a") != advisory_key("shop")
    assert advisory_key("shop", "public") == advisory_key("shop")  # public is the database's own schema
    assert advisory_key("shop", "tenant_a") != advisory_key("shop2", "tenant_a")


# -- gates: database-wide built-ins once per database ---------------------------------------


def test_database_wide_gate_checks_a_shared_database_once(shared_db: str) -> None:
    from dualpath.config import GateConfig
    from dualpath.gates import check_gates

    tenants = [(n, tenant_url(shared_db, n)) for n in SCHEMAS]
    gates = [GateConfig(name="no waits", kind="lock_waits"),
             GateConfig(name="own table", kind="sql", query="SELECT count(*) FROM pg_tables "
                        "WHERE schemaname = current_schema()", expect=0)]
    results = check_gates(gates, tenants)
    waits = [r for r in results if r.name == "no waits"]
    assert [r.where for r in waits] == ["a and 2 more tenant(s) of its database"] and waits[0].passed
    assert [r.where for r in results if r.name == "own table"] == ["a", "b", "c"]  # sql gates: each schema
    assert all(r.passed for r in results)


# -- the rollout: `dualpath tenants`, then `dualpath run` in waves with backups --------------


@pytest.fixture(scope="module")
def prefect_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from dualpath.flows.local import drain_prefect_workers, start_server

    with start_server(tmp_path_factory.mktemp("prefect-home"), echo=lambda _line: None) as url:
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with temporary_settings(updates={PREFECT_API_URL: url}):
            yield url
            drain_prefect_workers()


def seed_at_base(config: Path, shared_db: str) -> None:
    """Every tenant at version 4 with two customers of its own (the release drops customers.name)."""
    for index, name in enumerate(SCHEMAS, start=1):
        assert cli(config, "apply", "--url", name, "--to", "4").exit_code == 0
        sql(shared_db, *(f"INSERT INTO tenant_{name}.customers (id, tenant_id, email, name) VALUES "
                         f"({index * 10 + i}, {index}, 'c{i}@{name}.example', 'Customer {i}')" for i in (1, 2)))


def tenant_list(config: Path) -> list[dict[str, Any]]:
    listed = cli(config, "tenants", "--env", "schemas", "--format", "json")
    assert listed.exit_code == 0, listed.output
    return list(json.loads(listed.stdout))


def test_rollout_over_schema_tenants_in_waves(prefect_api: str, shared_db: str, tmp_path: Path) -> None:
    """One Prefect server, two runs: a failed wave rolled back, then the whole release in waves."""
    from dualpath.backup import BackupSettings, list_backups
    from dualpath.errors import RunFailed
    from dualpath.flows.migrate import migrate
    from dualpath.tenants import TenantTarget, restore_tenant

    config = write_config(tmp_path, shared_db)
    seed_at_base(config, shared_db)
    assert [(t["name"], t["wave"], t["version"], t["pending"]) for t in tenant_list(config)] == \
        [("a", 1, "4", 3), ("b", 2, "4", 3), ("c", 2, "4", 3)]

    # 1. V5 fails on c (wave 2): this run's schemas a and b are rolled back, the others untouched
    sql(shared_db, "ALTER TABLE tenant_c.customers ADD COLUMN display_name text")
    before = {n: digest(tenant_url(shared_db, n)) for n in SCHEMAS}
    with pytest.raises(RunFailed) as failed:
        migrate(env="schemas", config=str(config), to_version="6", approve=True)
    assert "wave 2" in failed.value.message and "c: version 5 failed" in failed.value.message
    assert {n: digest(tenant_url(shared_db, n)) for n in SCHEMAS} == before
    # c recorded its failed attempt at 5 (rolled back with its transaction); a and b are back at 4
    assert [(t["version"], t["state"]) for t in tenant_list(config)] == [("4", "pending")] * 2 + [("4", "failed")]
    undone = sql(shared_db, "SELECT version FROM tenant_a.dualpath_history WHERE direction = 'down' ORDER BY id")
    assert [r[0] for r in undone] == ["6", "5"]

    # 2. the cause fixed, `dualpath run` takes every schema to the release, canary first, then a wave of two
    sql(shared_db, "ALTER TABLE tenant_c.customers DROP COLUMN display_name")
    ran = cli(config, "run", "--env", "schemas", "--approve", "--approver", "dba", "--report-dir", str(tmp_path))
    assert ran.exit_code == 0, ran.output
    assert "completed" in ran.output
    assert [(t["version"], t["state"]) for t in tenant_list(config)] == [("7", "up to date")] * 3
    for index, name in enumerate(SCHEMAS, start=1):  # each tenant's rows, backfilled in its own schema
        rows = sql(shared_db, f"SELECT id, display_name FROM tenant_{name}.customers ORDER BY id")
        assert [tuple(r) for r in rows] == [(index * 10 + 1, "Customer 1"), (index * 10 + 2, "Customer 2")]
    report = max(tmp_path.glob("dualpath-report-*.md"), key=lambda f: f.stat().st_mtime).read_text()
    assert "| a | 1 | applied |" in report and "| b | 2 | applied |" in report and "| c | 2 | applied |" in report

    # the irreversible V7 was preceded by a verified backup of each tenant's customers, and only those
    backups = [m for m in list_backups(f"file://{tmp_path / 'backups'}") if "7" in m.change_ids]
    assert sorted(m.tables for m in backups) == [[f"tenant_{n}.customers"] for n in SCHEMAS]
    backup = next(m for m in backups if m.tables == ["tenant_b.customers"])
    restored = restore_tenant(TenantTarget("b", tenant_url(shared_db, "b")), backup.backup_id, None,
                              f"file://{tmp_path / 'backups'}", BackupSettings())
    server = open_engine(shared_db)
    try:
        assert restored.row_counts == {"tenant_b.customers": 2}
    finally:
        server.drop_database(f"{server.url.database}_restore")


@pytest.mark.parametrize("search_path", ["tenant_a", "tenant_b, tenant_a", '"$user", public', "tenant_c"])
def test_table_names_and_has_table_answer_what_sqlalchemys_inspector_answers(shared_db: str, search_path: str) -> None:
    """dualpath lists a schema's tables by its own query (the inspector's scans every relation of the
    database): the same names, whatever the search path, with tables the inspector leaves out beside them."""
    from dualpath.engines import has_table, table_names

    sql(shared_db, "CREATE TABLE public.shared_one (id int)", "CREATE SCHEMA elsewhere",
        "CREATE TABLE elsewhere.hidden (id int)",
        *(f"CREATE TABLE tenant_{n}.plain_{n} (id int)" for n in ("a", "b")),
        "CREATE TABLE tenant_a.parts (id int, at date) PARTITION BY RANGE (at)",
        "CREATE TABLE tenant_a.parts_2026 PARTITION OF tenant_a.parts FOR VALUES FROM ('2026-01-01') TO ('2027-01-01')",
        "CREATE VIEW tenant_a.a_view AS SELECT 1 AS one", "CREATE SEQUENCE tenant_a.a_seq",
        "CREATE TABLE tenant_b.plain_a (id int)")  # the same name in a schema later on the path
    engine = create_engine(shared_db.split("?")[0])
    try:
        with engine.connect() as conn:
            conn.execute(text(f"SET search_path TO {search_path}"))
            conn.execute(text("CREATE TEMPORARY TABLE scratch (id int)"))
            ours = sorted(table_names(conn))
            theirs = sorted(inspect(conn).get_table_names())
            names = ("plain_a", "plain_b", "parts", "parts_2026", "a_view", "a_seq", "hidden", "shared_one", "scratch",
                     "pg_class", "nothing")
            ours_has = {n: has_table(conn, n) for n in names}
            theirs_has = {n: inspect(conn).has_table(n) for n in names}
    finally:
        engine.dispose()
    assert ours == theirs
    assert ours_has == theirs_has and ours_has["scratch"] and not ours_has["hidden"]  # a temporary table counts
    assert ("parts" in ours) == ("tenant_a" in search_path) and "hidden" not in ours and "scratch" not in ours
