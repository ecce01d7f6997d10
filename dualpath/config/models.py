"""The settings of dualpath.toml as typed models: targets, environments, tenants, gates, hosts, sources,
rollback policy, verify, docs, lint."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from dualpath import defaults


class Safety(BaseModel):
    """Timeouts and retries every statement runs under."""

    model_config = ConfigDict(extra="forbid")

    # upper bounds: what every server takes as a timeout (PostgreSQL: a 32-bit int of ms) and a back-off
    # a run can sleep (retry_backoff_ms * 2^attempt); beyond them a run failed at its first statement or mid-run
    lock_timeout_ms: int = Field(defaults.LOCK_TIMEOUT_MS, ge=1, le=2_147_483_647)
    statement_timeout_ms: int = Field(defaults.STATEMENT_TIMEOUT_MS, ge=0, le=2_147_483_647)  # 0 = no limit
    lock_retries: int = Field(defaults.LOCK_RETRIES, ge=0, le=20)
    retry_backoff_ms: int = Field(defaults.RETRY_BACKOFF_MS, ge=0, le=600_000)


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
    follow_links_outside: bool = defaults.FOLLOW_LINKS_OUTSIDE


class RollbackConfig(BaseModel):
    """``[rollback]``: what a change without a way back is (no rollback file, or one that runs nothing,
    as diesel, golang-migrate, dbmate and Flyway without undo files allow)."""

    model_config = ConfigDict(extra="forbid")

    # "refuse": the folder is refused until each such change has a rollback or -- dualpath:irreversible;
    # "irreversible": read as irreversible (approval and backup on protected environments, a rollback
    # across it is refused); "allow": its rollback runs nothing and the history is updated
    missing: Literal["refuse", "irreversible", "allow"] = defaults.MISSING_ROLLBACKS


class FlywayConfig(BaseModel):
    """``[flyway]``: Flyway's ``${name}`` placeholders in Flyway folders (flyway.placeholders.*)."""

    model_config = ConfigDict(extra="forbid")

    placeholders: dict[str, str] = Field(default_factory=dict)  # name -> value; ${flyway:*} come from the target
    placeholder_replacement: bool = defaults.PLACEHOLDER_REPLACEMENT  # Flyway's flyway.placeholderReplacement


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

    migrations: str = defaults.MIGRATIONS
    sources: Sources = Field(default_factory=Sources)
    ticket_pattern: str = defaults.TICKET_PATTERN
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
