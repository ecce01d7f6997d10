"""Hostile database URLs: a generated matrix of URL forms x password alphabets x ways of giving them,
each run through every command that takes a URL (issue 13, items 4-6, and the class).

Every case asserts that (a) each command works, or fails with a clean message (exit 2, a `next:` line,
no traceback), and (b) the secret is nowhere: not in stdout/stderr or log records, not in any text of
any dualpath_* table, not in any file the commands wrote (docs, backups, .dualpath, the config).

Each case's password carries a random hex core; every form of the password (raw, percent-encoded,
+-encoded, cut at an '@') that is long enough to identify it holds that core, so the search looks
for the core alone. PostgreSQL trusts loopback, so any password connects there: ideal to prove that
it never shows. MariaDB checks it: each case makes a user with the case's password, and drops it.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import inspect, text
from typer.testing import CliRunner

from dualpath.cli import app
from dualpath.engines import open_engine
from dualpath.errors import DualpathError
from dualpath.slack.messages import Failure, RunInfo, build_failure, build_run_started
from dualpath.urls import parse_url, reveal
from tests.integration.dbs import SERVERS, database_name, require_server

# The characters generated passwords carry, and the rest of the world's.
ALPHABETS = {
    "url-syntax": "p@ss:w/rd#?x%41%&=+ {core}@:",
    "unicode": "pä ss wörd €日本🔑 {core} ß",
}
ENV = "DP_HOSTILE_SECRET"
TOKEN_ENV = "DP_HOSTILE_TOKEN"
MIGRATIONS = {
    "V1__gizmos.sql": "CREATE TABLE gizmos (id INT PRIMARY KEY, name VARCHAR(40));\n",
    "U1__gizmos.sql": "DROP TABLE gizmos;\n",
    "V2__gizmos_name.sql": "CREATE INDEX gizmos_name ON gizmos (name);\n",
    "U2__gizmos_name.sql": "DROP INDEX gizmos_name{on_table};\n",
    "V3__gizmos_n.sql": "ALTER TABLE gizmos ADD COLUMN n INT;\n",
    "U3__gizmos_n.sql": "ALTER TABLE gizmos DROP COLUMN n;\n",
}


@dataclass(frozen=True)
class Form:
    """How a URL carries its secret: ``{pw}`` and ``{token}`` are where the password goes."""

    name: str
    backend: str  # postgresql | mysql
    template: str  # {user} {pw} {token} {db}


FORMS = [
    Form("postgresql-userinfo", "postgresql", "postgresql://postgres:{pw}@127.0.0.1:5432/{db}"),
    Form("psycopg-query-password", "postgresql", "postgresql+psycopg://postgres@127.0.0.1:5432/{db}?password={pw}"),
    # libpq keywords in the query: sslpassword (unused without a client key) and a token inside options
    # (libpq splits options at spaces: a token there has none)
    Form("postgres-sslpassword-options-token", "postgresql",
         "postgres://postgres@127.0.0.1:5432/{db}?sslmode=disable&sslpassword={pw}"
         "&options=-c%20app.token%3D{token}"),
    Form("mysql-userinfo", "mysql", "mysql://{user}:{pw}@127.0.0.1:3306/{db}"),
    Form("mariadb-userinfo", "mysql", "mariadb://{user}:{pw}@127.0.0.1:3306/{db}?charset=utf8mb4"),
    Form("pymysql-query-passwd", "mysql", "mysql+pymysql://{user}@127.0.0.1:3306/{db}?passwd={pw}"),
]
# Nothing answers there (the servers listen on 127.0.0.1 only), or it is no URL dualpath speaks.
BROKEN = [
    Form("ipv6-unreachable", "postgresql", "postgresql://postgres:{pw}@[::1]:5432/{db}"),
    Form("port-1-query-password", "postgresql", "postgresql://postgres@127.0.0.1:1/{db}?password={pw}"),
    Form("mysql-port-1", "mysql", "mysql://root:{pw}@127.0.0.1:1/{db}"),
    Form("oracle", "postgresql", "oracle://scott:{pw}@127.0.0.1/{db}"),
    Form("port-not-a-number", "postgresql", "postgresql://postgres:{pw}@127.0.0.1:port/{db}"),
]


def commands(out: Path, migrations: Path) -> list[tuple[str, list[str], set[int]]]:
    """Every command that takes a URL, in the order a person would run them, with the exits that are fine."""
    m = ["--migrations", str(migrations)]
    return [
        ("status", ["status", *m], {0}),
        ("status json", ["status", *m, "--format", "json"], {0}),
        ("apply --dry-run", ["apply", *m, "--dry-run"], {0}),
        ("plan md", ["plan", *m, "--format", "md"], {0}),
        ("plan json", ["plan", *m, "--format", "json"], {0}),
        ("plan html", ["plan", *m, "--format", "html"], {0}),
        ("lint --url", ["lint", str(migrations)], {0, 1}),
        ("verify", ["verify", *m], {0}),
        ("apply", ["apply", *m], {0}),
        ("status after apply", ["status", *m, "--format", "json"], {0}),
        ("docs", ["docs", *m, "--out", str(out / "docs")], {0}),
        ("backup create", ["backup", "create", "--to", (out / "backups").as_uri()], {0}),
        ("rollback", ["rollback", *m, "--to", "1"], {0}),
    ]


class Case:
    """One URL form with one password, given one way; everything its commands leave, searched."""

    def __init__(self, tmp_path: Path, caplog: pytest.LogCaptureFixture, alphabet: str) -> None:
        self.core = secrets.token_hex(8)
        self.password = ALPHABETS[alphabet].format(core=self.core)
        self.token = self.password.replace(" ", "")
        self.tmp_path, self.caplog = tmp_path, caplog
        self.places: list[tuple[str, str]] = []

    def run(self, label: str, args: list[str], url_args: list[str], ok: set[int]) -> str:
        self.caplog.clear()
        # lint takes paths as arguments: --url goes before them
        args = [args[0], *url_args, *args[1:]] if args[0] == "lint" else [*args, *url_args]
        result = CliRunner().invoke(app, args, catch_exceptions=True)
        shown = result.output + (result.stderr if result.stderr_bytes is not None else "")
        self.places.append((f"the output of `dualpath {label}`", shown))
        self.places.append((f"the log records of `dualpath {label}`",
                            "\n".join(r.getMessage() for r in self.caplog.records)))
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            pytest.fail(f"dualpath {label} crashed: {result.exception!r}\n{shown[-2000:]}")
        assert "Traceback" not in shown, f"dualpath {label}:\n{shown[-2000:]}"
        clean_failure = result.exit_code == 2 and "next:" in shown
        assert result.exit_code in ok or clean_failure, f"dualpath {label}: exit {result.exit_code}\n{shown[-2000:]}"
        return shown

    def add_tables(self, admin_url: str) -> int:
        """Every row of every dualpath_* table, as text."""
        engine = open_engine(admin_url)
        rows = 0
        with engine.connect() as conn:
            for table in (t for t in inspect(conn).get_table_names() if t.startswith("dualpath")):
                for row in conn.execute(text(f"SELECT * FROM {table}")):
                    self.places.append((f"table {table}", " ".join(str(v) for v in row)))
                    rows += 1
        return rows

    def add_files(self) -> int:
        files = [p for p in sorted(self.tmp_path.rglob("*")) if p.is_file()]
        for path in files:
            self.places.append((str(path), path.read_bytes().decode("utf-8", "replace")))
        return len(files)

    def hits(self) -> list[str]:
        """Where the core shows, also across the line breaks and borders a terminal table wraps text at."""
        return [where for where, content in self.places
                if self.core in content or self.core in re.sub(r"[\s│┃║]+", "", content)]


def project(folder: Path, backend: str) -> Path:
    migrations = folder / "migrations"
    migrations.mkdir()
    for name, body in MIGRATIONS.items():
        on_table = " ON gizmos" if backend == "mysql" else ""
        (migrations / name).write_text(body.format(on_table=on_table))
    return migrations


@contextmanager
def database(backend: str, test_name: str, password: str) -> Iterator[tuple[str, str, str]]:
    """A fresh database and, on MariaDB, a user whose password is the case's; (name, admin URL, user)."""
    require_server(backend)
    admin = open_engine(SERVERS[backend][1])
    name = database_name(test_name)
    created = admin.create_database(name)
    user = f"dph_{secrets.token_hex(4)}" if backend == "mysql" else "postgres"
    try:
        if backend == "mysql":
            with admin.connect() as conn:
                conn.execute(text(f"CREATE USER '{user}'@'%' IDENTIFIED BY :pw"), {"pw": password})
                conn.execute(text(f"GRANT ALL PRIVILEGES ON *.* TO '{user}'@'%'"))
                conn.commit()
        yield name, reveal(created), user
    finally:
        if backend == "mysql":
            with admin.connect() as conn:
                conn.execute(text(f"DROP USER IF EXISTS '{user}'@'%'"))
                conn.commit()
        admin.drop_database(name)


def given_as(how: str, form: Form, case: Case, db: str, user: str, folder: Path,
             monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The command-line arguments that name the database: the URL itself, or a target of dualpath.toml."""
    if how == "env-in-config":
        monkeypatch.setenv(ENV, case.password)
        monkeypatch.setenv(TOKEN_ENV, case.token)
        url = form.template.format(user=user, db=db, pw="${" + ENV + "}", token="${" + TOKEN_ENV + "}")
        config = folder / "dualpath.toml"
        config.write_text(f'migrations = "migrations"\n[targets.db]\nurl = {json.dumps(url)}\n')
        return ["--config", str(config), "--url", "db"]
    encode: Callable[[str], str] = (lambda s: s) if how == "raw" else (lambda s: quote(s, safe=""))
    return ["--url", form.template.format(user=user, db=db, pw=encode(case.password), token=encode(case.token))]


def run_all(case: Case, folder: Path, migrations: Path, url_args: list[str]) -> list[str]:
    return [case.run(label, args, url_args, ok) for label, args, ok in commands(folder, migrations)]


def assert_nowhere(case: Case) -> None:
    hits = case.hits()
    assert not hits, f"the secret ({case.core}) leaked into:\n" + "\n".join(hits)


@pytest.fixture
def case_env(tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> Path:
    caplog.set_level(logging.DEBUG)
    monkeypatch.chdir(tmp_path)  # whatever a command writes next to it (.dualpath/) is searched too
    for name in (ENV, TOKEN_ENV, "DUALPATH_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.mark.parametrize("alphabet", ALPHABETS)
@pytest.mark.parametrize("how", ["percent-encoded", "env-in-config"])
@pytest.mark.parametrize("form", FORMS, ids=lambda f: f.name)
def test_a_hostile_password_works_and_shows_nowhere(
        form: Form, how: str, alphabet: str, case_env: Path, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    case = Case(case_env, caplog, alphabet)
    migrations = project(case_env, form.backend)
    with database(form.backend, request.node.name, case.password) as (db, admin_url, user):
        url_args = given_as(how, form, case, db, user, case_env, monkeypatch)
        outputs = run_all(case, case_env, migrations, url_args)
        assert '"state": "applied"' in outputs[9], outputs[9]  # it really worked, with the password
        assert case.add_tables(admin_url) >= 6
    assert case.add_files() >= 5  # docs, the backup and its manifest, the config
    assert_nowhere(case)


@pytest.mark.parametrize("alphabet", ALPHABETS)
@pytest.mark.parametrize("form", [f for f in FORMS if "userinfo" in f.name], ids=lambda f: f.name)
def test_a_raw_password_works_or_is_refused_without_showing_it(
        form: Form, alphabet: str, case_env: Path, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """Not percent-encoded: a password with '@' cannot be told from the host, so it is refused, saying
    how to encode it; one without (spaces and unicode are fine raw) works."""
    case = Case(case_env, caplog, alphabet)
    migrations = project(case_env, form.backend)
    with database(form.backend, request.node.name, case.password) as (db, admin_url, user):
        outputs = run_all(case, case_env, migrations, given_as("raw", form, case, db, user, case_env, monkeypatch))
        if "@" in case.password:
            assert all("is not a database URL" in o and "percent-encode" in o for o in outputs), outputs
        else:
            assert '"state": "applied"' in outputs[9], outputs[9]
        case.add_tables(admin_url)
    case.add_files()
    assert_nowhere(case)


@pytest.mark.parametrize("alphabet", ALPHABETS)
@pytest.mark.parametrize("how", ["percent-encoded", "env-in-config"])
@pytest.mark.parametrize("form", BROKEN, ids=lambda f: f.name)
def test_an_unreachable_or_invalid_url_fails_cleanly_without_its_secret(
        form: Form, how: str, alphabet: str, case_env: Path, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    case = Case(case_env, caplog, alphabet)
    migrations = project(case_env, form.backend)
    url_args = given_as(how, form, case, "dp_hostile_nowhere", "root", case_env, monkeypatch)
    for label, args, _ in commands(case_env, migrations):
        case.run(label, args, url_args, ok=set())  # only a clean failure (exit 2, a next: line) will do
    case.add_files()
    assert_nowhere(case)


@pytest.mark.parametrize("alphabet", ALPHABETS)
@pytest.mark.parametrize("how", ["percent-encoded", "raw"])
@pytest.mark.parametrize("form", FORMS + BROKEN, ids=lambda f: f.name)
def test_slack_messages_about_a_hostile_url_carry_no_secret(form: Form, how: str, alphabet: str,
                                                            tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """What a flow sends: the target as dualpath shows it, and the error a bad URL raised."""
    case = Case(tmp_path, caplog, alphabet)
    text_url = given_as(how, form, case, "shop", "app", tmp_path, pytest.MonkeyPatch())[1]
    try:
        target, error = str(parse_url(text_url)), "cannot connect"
    except DualpathError as exc:
        target, error = "tenant north", str(exc)
    run = RunInfo(run_id="r1", env="prod", target=target)
    payloads = [build_run_started(run).payload(),
                build_failure(run, Failure(what=f"apply on {target} failed", error=error, next_step=error,
                                           tenant=target)).payload()]
    case.places.append(("the Slack payloads", json.dumps(payloads, ensure_ascii=False)))
    assert_nowhere(case)
