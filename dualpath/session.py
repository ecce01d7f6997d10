"""Everything one command needs about its target: settings, URL, engine, changes, actor."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import URL

from dualpath import history
from dualpath.changes import Change
from dualpath.changes_cache import CACHE_DIR, cached_read, reading_settings
from dualpath.config import Settings, config_label, find_config, interpolate, load_settings
from dualpath.engines import open_engine
from dualpath.engines.base import Engine
from dualpath.errors import TargetRefused, UsageError
from dualpath.history import Actor
from dualpath.status import ChangeState, read_states
from dualpath.target import Target, resolve_target
from dualpath.urls import backend_of, parse_url, redact, safe_url

if TYPE_CHECKING:
    from dualpath.apply import Runner

Echo = Callable[[str], None]


def flyway_placeholders(settings: Settings, url: URL) -> dict[str, str] | None:
    """The values of Flyway's ``${name}`` on this target: [flyway] placeholders, and Flyway's own
    ${flyway:defaultSchema}, ${flyway:user}, ${flyway:database}, ${flyway:timestamp}."""
    if not settings.flyway.placeholder_replacement:
        return None
    database = url.database or ""
    values = {"flyway:defaultSchema": open_engine(url).default_schema, "flyway:user": url.username or "",
              "flyway:database": database, "flyway:timestamp": datetime.now().strftime("%Y-%m-%d %H:%M:%S")}
    return {**values, **settings.flyway.placeholders}


@dataclass
class Session:
    settings: Settings
    target: Target
    echo: Echo
    run_id: str | None = None  # given: this command's run began before the session (plain_apply.py)

    @cached_property
    def engine(self) -> Engine:
        return open_engine(self.target.url)

    @property
    def layout(self) -> str:
        return self._folder[0]

    @property
    def changes(self) -> list[Change]:
        return self._folder[1]

    @cached_property
    def _folder(self) -> tuple[str, list[Change]]:
        """The layout and changes of the migrations folder, from the cache when no file changed since."""
        folder, links, missing = self.target.migrations, self.links_outside, self.settings.rollback.missing
        placeholders = flyway_placeholders(self.settings, self.target.url)

        def read() -> tuple[str, list[Change]]:
            from dualpath.sources import detect_layout, read_changes

            layout = detect_layout(folder, follow_links_outside=links)
            return layout, read_changes(folder, dialect=self.engine.name, layout=layout, follow_links_outside=links,
                                        missing_rollbacks=missing, placeholders=placeholders)

        key = reading_settings(self.settings, self.engine.name, placeholders is not None)
        return cached_read(folder, self.settings.root / CACHE_DIR, key, placeholders, read)

    @property
    def links_outside(self) -> bool:
        return self.settings.sources.follow_links_outside

    @cached_property
    def actor(self) -> Actor:
        from dualpath.apply import new_run_id

        return history.make_actor(self.run_id or new_run_id(), self.target.migrations, self.settings.applied_by)

    @property
    def target_label(self) -> str:
        return self.target.name if self.target.name != "url" else safe_url(self.target.url)

    def shadow_url(self, given: str | None = None) -> URL | None:
        """The user's shadow database: --shadow-url, else [verify] shadow_url, else None (verify makes one)."""
        text = given or self.settings.verify.shadow_url
        if not text:
            return None
        where = "--shadow-url" if given else f"{config_label(self.settings)} [verify] shadow_url"
        url = parse_url(interpolate(text, where=where))
        if backend_of(url) != backend_of(self.target.url):
            raise UsageError(f"the shadow is a {backend_of(url)} database; the target is {backend_of(self.target.url)}",
                             where=where, hint="point the shadow at an empty database on the target's server")
        return url

    def protected_environment(self) -> str | None:
        """The protected environment this target belongs to; with none protected there is nothing to look up
        (nor to import: tenants, backups and validations)."""
        if not any(env.protected for env in self.settings.environments.values()):
            return None
        from dualpath.tenants import protecting_environment

        return protecting_environment(self.settings, self.target)

    def runner(self) -> Runner:
        # commands that only read (status) do not pay for the runner's imports
        from dualpath.apply import Runner

        allowed = self.settings.apply.out_of_order or self.protected_environment() is None
        return Runner(self.target, self.engine, self.changes, self.actor, self.echo, self.settings.ticket_pattern,
                      protect=self.back_up_before, out_of_order=allowed)

    def back_up_before(self, todo: list[Change], direction: str) -> None:
        """A verified backup of what destructive changes touch, or a refusal (exit 3) before anything runs."""
        from dualpath.backup import BackupSettings, ensure_backup_for

        settings = BackupSettings.model_validate(self.settings.backup)
        dest = settings.destination or (self.settings.root / ".dualpath" / "backups").resolve().as_uri()
        # what a rollback runs is the change's rollback: judge and protect that
        running = todo if direction == "up" else [replace(c, forward=c.rollback, rollback=c.forward) for c in todo]
        manifest = ensure_backup_for(running, self.target.url, dest, settings)
        if manifest is not None:
            self.echo(f"backup {manifest.backup_id} verified at {redact(dest)} "
                      f"({', '.join(manifest.tables) if manifest.tables else 'whole database'})")

    def guard(self, command: str, approval_run: str | None = None, break_glass: str | None = None) -> None:
        """Guardrail of protected environments: a terminal ``apply``/``rollback`` needs the approval a
        migrate flow run recorded on this target (``approval_run``), or a break-glass reason, which is
        audited on the target and announced in Slack. Otherwise refuse (exit 3) before anything runs."""
        env = self.protected_environment()
        if env is None:
            return
        from dualpath.tenants import approval_from_flow

        if approval_run:
            valid_s = self.settings.environments[env].approval_valid_s
            approval = approval_from_flow(self.runner(), approval_run, valid_s)
            if approval is None:
                raise TargetRefused(f"environment '{env}' is protected and run {approval_run} recorded no approval "
                                    f"on this target in the last {valid_s // 3600} h; nothing was changed",
                                    where=self.target_label,
                                    hint="approve a migrate flow run for this environment first, or use "
                                         "--break-glass \"reason\"")
            self.echo(f"protected environment '{env}': approved by {approval.get('approver') or approval['who']} "
                      f"in flow run {approval_run}")
            return
        reason = (break_glass or "").strip()
        if not reason:
            raise TargetRefused(f"environment '{env}' is protected: `dualpath {command}` from a terminal is refused; "
                                "nothing was changed", where=self.target_label,
                                hint=f"run it as the migrate flow (dualpath run --env {env}) and get it approved, "
                                     "pass --approval <flow run id> of an approved run, or --break-glass \"reason\" "
                                     "(audited and announced)")
        self.engine.ensure_exists()
        with self.engine.connect() as conn, conn.begin():
            history.ensure_tables(conn)
            history.audit(conn, self.actor, "break-glass", detail={"environment": env, "command": command,
                                                                   "reason": reason})
        self.echo(f"BREAK-GLASS on protected environment '{env}' by {self.actor.who}: {reason} (audited)")
        self._announce_break_glass(env, command, reason)

    def _announce_break_glass(self, env: str, command: str, reason: str) -> None:
        if not self.settings.slack:
            return
        from dualpath.config import environment
        from dualpath.errors import DualpathError
        from dualpath.slack.client import BreakGlass, Notifier, RunInfo, slack_settings

        try:
            settings = slack_settings(self.settings.slack, env, environment(self.settings, env).slack_channel)
        except (DualpathError, ValueError) as exc:
            self.echo(f"break-glass not announced in Slack: {redact(str(exc)).splitlines()[0]}")
            return
        run = RunInfo(run_id=self.actor.run_id, env=env, target=self.target_label)
        event = BreakGlass(command=command, who=self.actor.who, host=self.actor.host, reason=reason,
                           target=self.target_label)
        if Notifier(settings, env).break_glass(run, event) is None:
            self.echo("break-glass not announced in Slack (see the warning above)")

    def states(self) -> list[ChangeState]:
        changes = self.changes
        with self.engine.connect() as conn:
            return read_states(conn, changes)

    def repair(self) -> list[str]:
        from dualpath.repair import repair_states

        changes = self.changes
        with self.engine.run_lock(self.actor.run_id, self.actor.host), self.engine.connect() as conn:
            history.ensure_tables(conn)
            states = read_states(conn, changes)
            done = repair_states(conn, states, self.actor)
            conn.commit()
        return done

    def adopt(self, dry_run: bool = False) -> list[str]:
        from dualpath.adopt import inspect_adoption, write_baseline

        changes = self.changes
        with self.engine.run_lock(self.actor.run_id, self.actor.host), self.engine.connect() as conn:
            adoption = inspect_adoption(conn, changes)
            if adoption is None:
                raise TargetRefused("no history table of Flyway, Liquibase, golang-migrate, dbmate, diesel or "
                                    "sqitch found on the target", hint="nothing to adopt: use dualpath apply")
            lines = [f"found {adoption.tool} history in {adoption.table}: "
                     f"{len(adoption.matched)} change(s) match files here"]
            lines += [f"problem recorded by {adoption.tool}: {p}" for p in adoption.problems]
            lines += [f"note: {n}" for n in adoption.notes]
            if adoption.missing_here or adoption.problems:
                missing = ", ".join(adoption.missing_here)
                raise TargetRefused("; ".join(lines[1:] + ([f"applied there but missing here: {missing}"]
                                                           if missing else [])),
                                    hint="bring the missing files into the migrations folder (or fix the "
                                         "problem with the previous tool), then adopt again; nothing was written")
            if dry_run:
                return lines + [f"would baseline {c.version} {c.description}" for c in adoption.matched]
            history.ensure_tables(conn)
            already = {v for v, row in history.latest_rows(conn).items() if row.is_applied}
            written = write_baseline(conn, adoption, self.actor, already)
            conn.commit()
        return lines + [f"baselined {v}" for v in written]


def open_session(url: str | None, migrations: Path | None, config: Path | None, echo: Echo = print,
                 run_id: str | None = None) -> Session:
    settings = load_settings(find_config(config))
    return Session(settings, resolve_target(settings, url, migrations), echo, run_id)
