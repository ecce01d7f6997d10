"""dualpath.toml → typed settings.

Secrets stay as written (``${PGPASSWORD}``) until a target is resolved, so a loaded
config can be printed or logged without leaking them.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from dualpath.errors import InputError, UsageError

CONFIG_NAME = "dualpath.toml"
_ENV_REF = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")
# Prefect Secret blocks: "{{ prefect.blocks.secret.NAME }}" anywhere in a value, or "secret:NAME" as the value.
_BLOCK_REF = re.compile(r"\{\{\s*prefect\.blocks\.secret\.(?P<name>[A-Za-z0-9][A-Za-z0-9_-]*)\s*\}\}")
_WHOLE_SECRET = re.compile(r"^secret:(?P<name>[A-Za-z0-9][A-Za-z0-9_-]*)$")
SecretResolver = Callable[[str], str]
_secret_resolver: list[SecretResolver] = []  # set by the Prefect side (tasks/secrets.py); the core imports no Prefect


class Safety(BaseModel):
    """Timeouts and retries every statement runs under."""

    model_config = ConfigDict(extra="forbid")

    # upper bounds: what every server takes as a timeout (PostgreSQL: a 32-bit int of ms) and a back-off
    # a run can sleep (retry_backoff_ms * 2^attempt); beyond them a run failed at its first statement or mid-run
    lock_timeout_ms: int = Field(2000, ge=1, le=2_147_483_647)
    statement_timeout_ms: int = Field(30 * 60 * 1000, ge=0, le=2_147_483_647)  # 0 = no limit
    lock_retries: int = Field(3, ge=0, le=20)
    retry_backoff_ms: int = Field(500, ge=0, le=600_000)


class ApplyConfig(BaseModel):
    """``[apply]``: how apply treats what it finds on the target."""

    model_config = ConfigDict(extra="forbid")

    # a new change whose version is below the last applied one: warned about everywhere, and refused
    # on protected environments unless this is true
    out_of_order: bool = False


class TargetConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str
    migrations: str | None = None
    safety: Safety | None = None
    environment: str | None = None  # the environment this target belongs to (its protection applies)


class Tenant(BaseModel):
    """One tenant database of an environment."""

    model_config = ConfigDict(extra="forbid")

    name: str
    url: str  # may hold ${ENV} references, resolved right before use
    canary: bool = False


class GateConfig(BaseModel):
    """A check that must pass before the rollout and between waves (see dualpath/gates.py)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    kind: Literal["sql", "http", "replication_lag", "lock_waits", "long_transactions"]
    query: str | None = None  # sql: a query returning one value
    url: str | None = None  # http: the URL to GET; sql: the database to ask (default: each tenant)
    expect: str | int | float | bool | None = None  # the value (sql, or the JSON field) must equal this
    max: float | None = None  # ... or be at most this (lag seconds, waiting locks, error rate)
    expect_status: int = 200  # http
    json_field: str | None = None  # http: dotted path into the JSON body, e.g. "data.result.0.value.1"
    older_than_s: int = Field(60, ge=0)  # long_transactions: what counts as long
    timeout_s: float = Field(5.0, gt=0)


class Environment(BaseModel):
    """An environment (sandbox, staging, prod-blue, ...): its tenants, window and rules of engagement."""

    model_config = ConfigDict(extra="forbid")

    tenants: list[Tenant] = Field(default_factory=list)
    # or a template plus names: url_template = "postgresql://app@db/shop_{tenant}"
    tenant_url_template: str | None = None
    tenant_names: list[str] = Field(default_factory=list)
    canary: list[str] = Field(default_factory=list)  # tenant names migrated first
    window: str | None = None  # e.g. "Sat 02:00-05:00 Europe/Berlin"; None = any time
    wave_size: int = Field(10, ge=1)
    failure_threshold: int = Field(1, ge=1)  # failed tenants that halt the rollout
    rollback_policy: Literal["failed", "run"] = "run"  # roll back the failed tenant only, or the whole run
    approval: Literal["always", "irreversible", "never"] = "irreversible"
    approvers: list[str] = Field(default_factory=list)
    approval_timeout_s: int = Field(3600, ge=1)
    # a run started at most this long before its window opens (a worker picks a scheduled run up a
    # moment early) waits for the opening instead of being refused
    window_grace_s: int = Field(60, ge=0, le=3600)
    fail_on: Literal["warning", "error", "never"] = "error"
    backup: Literal["destructive", "always", "never"] = "destructive"
    backup_to: str | None = None  # file:///path or s3://bucket/prefix
    slack_channel: str | None = None
    # tenants migrated at once per database host: asked when the host's limit is first created; a host's
    # limit belongs to the host ([hosts."h:port"] concurrency, else the smallest any environment on it asks)
    host_concurrency: int = Field(4, ge=1)
    safety: Safety | None = None
    gates: list[GateConfig] = Field(default_factory=list)  # checked in pre-flight and between waves
    # protected: `dualpath apply/rollback` from a terminal is refused unless the target holds an approval
    # recorded by the migrate flow (--approval RUN_ID) or --break-glass "reason" is given (audited, announced)
    protected: bool = False
    approval_valid_s: int = Field(24 * 3600, ge=1)  # how long a flow's approval covers terminal runs
    # accept tenants migrated as a superuser or a role with server-wide powers (unset: [preflight]'s)
    allow_superuser: bool | None = None
    # where it was defined ("<file> [environments.<name>]"), for errors about it; set by environment()
    _where: str | None = PrivateAttr(default=None)

    @property
    def where(self) -> str | None:
        return self._where

    def tenant_list(self) -> list[Tenant]:
        """Explicit tenants, then templated ones; canaries are flagged from either form."""
        listed = list(self.tenants)
        if self.tenant_url_template:
            listed += [Tenant(name=n, url=self.tenant_url_template.replace("{tenant}", n)) for n in self.tenant_names]
        return [t.model_copy(update={"canary": t.canary or t.name in self.canary}) for t in listed]


_HOST_PORT = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[^\s:/\[\]]+):\d{1,5}$")


class HostConfig(BaseModel):
    """``[hosts."<host:port>"]``: what belongs to a database server, whichever environment runs on it."""

    model_config = ConfigDict(extra="forbid")

    # tenant migrations at once on this server, across every run and worker: the Prefect global concurrency
    # limit db-host:<host:port>, created with this many slots by the first run that needs it, never resized
    concurrency: int = Field(ge=1)


class Sources(BaseModel):
    """``[sources]``: how migration files are read."""

    model_config = ConfigDict(extra="forbid")

    # a link in the migrations folder to a file or folder outside it is refused unless this is true:
    # otherwise anyone who can open a pull request could publish host files (/etc/shadow) in CI logs
    follow_links_outside: bool = False


class RollbackConfig(BaseModel):
    """``[rollback]``: what a change without a way back is (no rollback file, or one that runs nothing,
    as diesel, golang-migrate, dbmate and Flyway without undo files allow)."""

    model_config = ConfigDict(extra="forbid")

    # "refuse": the folder is refused until each such change has a rollback or -- dualpath:irreversible;
    # "irreversible": read as irreversible (approval and backup on protected environments, a rollback
    # across it is refused); "allow": its rollback runs nothing and the history is updated
    missing: Literal["refuse", "irreversible", "allow"] = "irreversible"


class FlywayConfig(BaseModel):
    """``[flyway]``: Flyway's ``${name}`` placeholders in Flyway folders (flyway.placeholders.*)."""

    model_config = ConfigDict(extra="forbid")

    placeholders: dict[str, str] = Field(default_factory=dict)  # name -> value; ${flyway:*} come from the target
    placeholder_replacement: bool = True  # Flyway's flyway.placeholderReplacement


class PreflightConfig(BaseModel):
    """``[preflight]``: what pre-flight accepts of every environment's tenants."""

    model_config = ConfigDict(extra="forbid")

    # a tenant migrated as a superuser, or a role with powers over the whole server, is warned about, and
    # refused on protected environments unless this is true (or the environment's own allow_superuser)
    allow_superuser: bool = False


class VerifyConfig(BaseModel):
    """``[verify]``: where the shadow of ``dualpath verify`` (and ``plan --rehearse``) lives."""

    model_config = ConfigDict(extra="forbid")

    # an empty database on the target's server the user owns, used instead of creating (and dropping) one:
    # for a user without CREATE DATABASE. Checked empty before, emptied after; never the target itself.
    shadow_url: str | None = None


class DocOwners(BaseModel):
    """``[docs.owners]``: who owns a risk of the release, by the table it touches, its schema or its ticket."""

    model_config = ConfigDict(extra="forbid")

    tables: dict[str, str] = Field(default_factory=dict)  # "customers" or "sales.customers" -> person or team
    schemas: dict[str, str] = Field(default_factory=dict)  # "public" -> person or team
    tickets: dict[str, str] = Field(default_factory=dict)  # "SHOP-131" -> person or team


class DocsConfig(BaseModel):
    """``[docs]``: what `dualpath docs` writes beyond the plan: owners of risks and the living FAQ."""

    model_config = ConfigDict(extra="forbid")

    owners: DocOwners = Field(default_factory=DocOwners)
    # the FAQ each `dualpath docs` appends the recorded runs to, relative to dualpath.toml; "" = none
    faq: str = "docs/faq.md"


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    migrations: str = "migrations"
    sources: Sources = Field(default_factory=Sources)
    ticket_pattern: str = r"[A-Z][A-Z0-9]+-\d+"
    ticket_link: str | None = None  # e.g. "https://jira.example.com/browse/{ticket}"
    applied_by: str | None = None
    safety: Safety = Field(default_factory=Safety)
    apply: ApplyConfig = Field(default_factory=ApplyConfig)
    targets: dict[str, TargetConfig] = Field(default_factory=dict)
    environments: dict[str, Environment] = Field(default_factory=dict)
    hosts: dict[str, HostConfig] = Field(default_factory=dict)  # "db1:5432" -> what belongs to that server
    owners: dict[str, str] = Field(default_factory=dict)  # role (dba, service, on-call...) -> person or team
    escalation: list[str] = Field(default_factory=list)
    pii_columns: list[str] = Field(default_factory=list)  # "table.column", masked in shadows and reports
    impact: dict[str, str] = Field(default_factory=dict)  # table -> what users notice while it is locked
    sla: str | None = None  # e.g. "99.9% monthly, checkout p95 < 800 ms": quoted in the stakeholder briefing
    lint: dict[str, Any] = Field(default_factory=dict)  # disable = ["DP012"], fail_on = "error"
    # validated by the modules that use them, so loading the config stays light
    slack: dict[str, Any] = Field(default_factory=dict)
    backup: dict[str, Any] = Field(default_factory=dict)
    validation: dict[str, Any] = Field(default_factory=dict)
    verify: VerifyConfig = Field(default_factory=VerifyConfig)
    preflight: PreflightConfig = Field(default_factory=PreflightConfig)
    rollback: RollbackConfig = Field(default_factory=RollbackConfig)
    flyway: FlywayConfig = Field(default_factory=FlywayConfig)
    docs: DocsConfig = Field(default_factory=DocsConfig)
    root: Path = Field(default=Path("."), exclude=True)
    source: Path | None = Field(default=None, exclude=True)  # the file read; errors about its content name it

    @field_validator("ticket_pattern")
    @classmethod
    def _ticket_pattern_compiles(cls, value: str) -> str:
        """Checked here: a run uses it when it records a change, after that change's statements ran."""
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression ({exc})") from None
        return value

    @field_validator("hosts")
    @classmethod
    def _hosts_are_host_port(cls, value: dict[str, HostConfig]) -> dict[str, HostConfig]:
        """A host is named as tenant URLs reach it, host:port: the port says which server of a host it is."""
        seen: dict[str, str] = {}
        for name in value:
            if not _HOST_PORT.match(name):
                raise ValueError(f'"{name}" is not host:port; write e.g. [hosts."db1:5432"]')
            key = name.lower()
            if key in seen:
                raise ValueError(f'[hosts."{seen[key]}"] and [hosts."{name}"] name the same server')
            seen[key] = name
        return value

    def migrations_dir(self, target: TargetConfig | None = None) -> Path:
        folder = Path(target.migrations if target and target.migrations else self.migrations)
        return folder if folder.is_absolute() else self.root / folder


class LintConfig(BaseModel):
    """``[lint]``: rule ids never reported, and the default of ``dualpath lint --fail-on``."""

    model_config = ConfigDict(extra="forbid")

    disable: list[str] = Field(default_factory=list)
    fail_on: Literal["info", "warning", "error"] = "error"


def lint_config(settings: Settings) -> LintConfig:
    """The [lint] table, checked when lint runs (loading the config stays light)."""
    try:
        return LintConfig.model_validate(settings.lint)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(["lint", *(str(p) for p in first["loc"])])
        raise InputError(f"setting '{key}': {first['msg']}", where=config_label(settings),
                         hint='e.g. [lint] disable = ["DP024"], fail_on = "error"; see docs/configuration.md') from None


def config_label(settings: Settings) -> str:
    """Which config an error is about: the file read, or that none was found."""
    return str(settings.source) if settings.source else f"no {CONFIG_NAME} found (pass --config)"


def environment(settings: Settings, name: str) -> Environment:
    """The named environment, or a clear error listing the known ones."""
    if name not in settings.environments:
        known = ", ".join(sorted(settings.environments)) or "none defined"
        raise UsageError(f"unknown environment '{name}'", where=config_label(settings),
                         hint=f"known environments: {known}; define [environments.{name}] to add it")
    env = settings.environments[name]
    env._where = f"{config_label(settings)} [environments.{name}]"
    return env


def find_config(explicit: Path | None = None) -> Path | None:
    """The config file to use: --config, $DUALPATH_CONFIG, or ./dualpath.toml."""
    if explicit is not None:
        if not explicit.is_file():
            raise UsageError(f"config file {explicit} does not exist", hint="pass an existing --config path")
        return explicit
    env = os.environ.get("DUALPATH_CONFIG")
    if env:
        return find_config(Path(env))
    here = Path.cwd() / CONFIG_NAME
    return here if here.is_file() else None


def load_settings(path: Path | None) -> Settings:
    """Read and validate the config; no file means defaults."""
    if path is None:
        return Settings(root=Path.cwd())
    data = parse_toml(path)
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise InputError(f"setting '{key}': {first['msg']}", where=str(path),
                         hint=f"{len(exc.errors())} problem(s); see docs/configuration.md") from None
    settings.root = path.parent.resolve()
    settings.source = path
    return settings


def parse_toml(path: Path) -> dict[str, Any]:
    """The file's TOML, or an InputError naming file:line (not UTF-8, or a syntax error)."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"not UTF-8 text: byte 0x{data[exc.start]:02x} at line {line}", where=f"{path}:{line}",
                         hint="re-save the file as UTF-8") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        found = re.search(r"at line (\d+)", str(exc))
        line = int(found.group(1)) if found else text.count("\n") + 1  # "at end of document"
        raise InputError(f"not valid TOML: {exc}", where=f"{path}:{line}", hint="fix the syntax") from None


def interpolate(text: str, where: str) -> str:
    """Replace ``${NAME}`` and ``${NAME:-default}`` from the environment, late, right before use.

    Inside a URL, a value that lands in the user or password part, or in a query parameter's value,
    is percent-encoded: a generated password with ``@ : / # ? & = +`` is a password, not URL syntax."""

    values: list[str] = []

    def value(match: re.Match[str]) -> str:
        name, default = match["name"], match["default"]
        if name in os.environ:
            found = os.environ[name]
        elif default is not None:
            found = default
        else:
            raise UsageError(f"environment variable {name} is not set", where=where,
                             hint=f"export {name}=... or write ${{{name}:-default}}")
        values.append(found)
        return f"\x00{len(values) - 1}\x00"  # a placeholder: where it sits in the URL decides its encoding

    template = _ENV_REF.sub(value, text)
    encoders = _url_part_encoders(template)
    filled = _PLACEHOLDER.sub(lambda m: encoders(m.start())(values[int(m[1])]), template)
    return resolve_secrets(filled, where)


_PLACEHOLDER = re.compile("\x00(\\d+)\x00")


def _url_part_encoders(template: str) -> Callable[[int], Callable[[str], str]]:
    """For a position in ``template``, how a value put there is written: percent-encoded in the
    userinfo (the user side keeps a ``user:password`` value's first colon) and in query values."""
    scheme_end = template.find("://")
    if scheme_end < 0:
        return lambda _: _as_is
    start = scheme_end + 3
    authority_end = min((i for i in (template.find(c, start) for c in "/?#") if i >= 0), default=len(template))
    at = template.rfind("@", start, authority_end)
    colon = template.find(":", start, at) if at >= 0 else -1
    query = template.find("?", start)

    def encoder(position: int) -> Callable[[str], str]:
        if start <= position < at:
            return _user_part if colon < 0 else _quoted  # no literal ':': the value may be user:password
        if 0 <= query < position:
            pair = template[max(template.rfind("&", query, position), query) + 1: position]
            return _quoted if "=" in pair else _as_is
        return _as_is

    return encoder


def _as_is(value: str) -> str:
    return value


def _quoted(value: str) -> str:
    return quote(value, safe="")


def _user_part(value: str) -> str:
    """A value that is the whole userinfo may be ``user:password``: each side encoded, the colon kept."""
    user, sep, password = value.partition(":")
    return _quoted(user) + sep + _quoted(password)


def set_secret_resolver(resolver: SecretResolver | None) -> None:
    """Where secret references are looked up (a Prefect Secret block loader); None turns them off."""
    _secret_resolver[:] = [resolver] if resolver else []


def has_secret_refs(text: str) -> bool:
    return bool(_BLOCK_REF.search(text) or _WHOLE_SECRET.match(text.strip()))


def mask_secret_refs(text: str) -> str | None:
    """``text`` with each secret reference replaced by a placeholder, None when the whole value is one:
    enough to read a URL's host without looking a secret up."""
    if _WHOLE_SECRET.match(text.strip()):
        return None
    return _BLOCK_REF.sub("secret", text)


def resolve_secrets(text: str, where: str) -> str:
    """Replace secret references with the secret's value, late, right before use. A reference inside
    a URL is percent-encoded (it is a password); a value that is wholly ``secret:NAME`` is used as is."""
    if not has_secret_refs(text):
        return text
    if not _secret_resolver:
        raise UsageError("secret references are resolved only inside a Prefect flow run", where=where,
                         hint="run it with `dualpath run` or a deployment, or use ${ENV} references here")
    resolve = _secret_resolver[0]
    whole = _WHOLE_SECRET.match(text.strip())
    if whole:
        return resolve(whole["name"])
    encode = "://" in text
    return _BLOCK_REF.sub(lambda m: quote(resolve(m["name"]), safe="") if encode else resolve(m["name"]), text)
