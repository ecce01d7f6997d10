"""Gates: checks from config that must pass before a rollout and between its waves.

Kinds: ``sql`` (a query's single value equals ``expect`` or is at most ``max``), ``http``
(a GET answers ``expect_status``, optionally a JSON field equal to ``expect`` or at most
``max``: a feature flag, a health endpoint, a Prometheus query), and the built-ins
``replication_lag`` (seconds), ``lock_waits`` (sessions waiting for a lock) and
``long_transactions`` (transactions open longer than ``older_than_s``).
A gate that cannot be evaluated fails: a rollout never proceeds on an unknown.
Built-ins read the server or database, not a schema: schema-per-tenant tenants of one database
are checked once for all of them (200 schemas, one query), named by the first and a count.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from dualpath.config import GateConfig, interpolate
from dualpath.engines import open_engine
from dualpath.errors import DualpathError, TargetRefused
from dualpath.urls import backend_of, endpoint, parse_url, redact

_BUILTIN_MAX = {"replication_lag": 10.0, "lock_waits": 0.0, "long_transactions": 0.0}
_DATABASE_WIDE = frozenset(_BUILTIN_MAX)  # what they read belongs to the database (or server), not a schema


@dataclass(frozen=True)
class GateResult:
    name: str
    passed: bool
    observed: str
    expected: str
    where: str  # the tenant or URL it was checked on, password hidden

    def describe(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        return f"gate {self.name} on {self.where}: {verdict} (observed {self.observed}, expected {self.expected})"


def check_gate(gate: GateConfig, tenant_url: str | None, tenant_name: str = "") -> GateResult:
    """Evaluate one gate; SQL and built-in gates run on ``gate.url`` or else the tenant's database."""
    try:
        if gate.kind == "http":
            return _check_http(gate)
        url = interpolate(gate.url, where=f"gate {gate.name}") if gate.url else tenant_url
        if url is None:
            return GateResult(gate.name, False, "no database", "a url or a tenant", "nowhere")
        where = tenant_name or redact(url)
        value = _query_value(gate, url)
        return _judge(gate, value, where, _BUILTIN_MAX.get(gate.kind))
    except DualpathError as exc:
        return GateResult(gate.name, False, f"error: {redact(exc.message)}", _expected(gate, None),
                          tenant_name or gate.url or "")
    except Exception as exc:  # any failure to evaluate is a failed gate, never a pass
        return GateResult(gate.name, False, f"error: {redact(f'{type(exc).__name__}: {exc}')[:300]}",
                          _expected(gate, None), tenant_name or redact(gate.url or ""))


def check_gates(gates: Sequence[GateConfig], tenants: Sequence[tuple[str, str]]) -> list[GateResult]:
    """Every gate: URL-bound ones once, tenant-bound ones on each (name, url) tenant."""
    results: list[GateResult] = []
    for gate in gates:
        if gate.kind == "http" or gate.url:
            results.append(check_gate(gate, None))
        elif gate.kind in _DATABASE_WIDE:
            results.extend(check_gate(gate, url, name) for name, url in per_database(tenants))
        else:
            results.extend(check_gate(gate, url, name) for name, url in tenants)
    return results


def per_database(tenants: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
    """One (label, url) per database for schema-per-tenant tenants (schemas of one database share a
    row); every other tenant keeps its own."""
    groups: dict[tuple[str, ...], list[tuple[str, str]]] = {}
    for name, url in tenants:
        groups.setdefault(_shared_database(name, url), []).append((name, url))
    rows = []
    for members in groups.values():
        name, url = members[0]
        label = name if len(members) == 1 else f"{name} and {len(members) - 1} more tenant(s) of its database"
        rows.append((label, url))
    return rows


def _shared_database(name: str, url: str) -> tuple[str, ...]:
    """(backend, host:port, database) of a schema tenant; the tenant itself for anything else."""
    try:
        parsed = parse_url(interpolate(url, where="gate"))
        scope = getattr(open_engine(parsed), "scope", None)
    except DualpathError:
        return ("tenant", name, url)  # unreadable: checked on its own, where the gate reports why
    if scope is None or scope.only is None:
        return ("tenant", name, url)
    return backend_of(parsed), endpoint(parsed), str(parsed.database or "")


def refuse_failed_gates(results: Sequence[GateResult], phase: str) -> None:
    failed = [r for r in results if not r.passed]
    if failed:
        raise TargetRefused(f"{phase}: {len(failed)} gate(s) failed: " + "; ".join(r.describe() for r in failed),
                            hint="the rollout stops here; fix the cause or the gate's threshold in dualpath.toml")


def _query_value(gate: GateConfig, url: str) -> Any:
    engine = open_engine(url)
    if gate.kind == "sql":
        if not gate.query:
            raise DualpathError(f"gate {gate.name}: kind sql needs a query",
                                hint=f"add query = \"SELECT ...\" to the gate {gate.name} in dualpath.toml")
        sql, params = gate.query, {}
    elif gate.kind == "replication_lag":
        with engine.connect() as conn:  # the engine's own probe (None: no replicas)
            lag = engine.replica_lag_s(conn)
            conn.rollback()
        return lag or 0.0
    else:
        # a kind the engine has no query for (SQLite has no lock waits) reads 0
        sql, params = engine.gate_queries.get(gate.kind, "SELECT 0"), {"older_than_s": gate.older_than_s}
        time.sleep(engine.gate_read_delay_s)  # a cached view of the server's state refreshes only after a pause
    with engine.connect() as conn:
        row = conn.execute(text(sql), params).first()
        conn.rollback()
    return row[0] if row else None


def _check_http(gate: GateConfig) -> GateResult:
    if not gate.url:
        return GateResult(gate.name, False, "no url", "a url", "")
    url = interpolate(gate.url, where=f"gate {gate.name}")
    where = redact(url)
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="GET"), timeout=gate.timeout_s) as reply:
            status, body = reply.status, reply.read()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, b""
    if status != gate.expect_status:
        return GateResult(gate.name, False, f"HTTP {status}", f"HTTP {gate.expect_status}", where)
    if gate.json_field is None:
        return GateResult(gate.name, True, f"HTTP {status}", f"HTTP {gate.expect_status}", where)
    return _judge(gate, pick_field(json.loads(body), gate.json_field), where, None)


def pick_field(document: Any, path: str) -> Any:
    """``a.b.0.c`` into nested dicts and lists."""
    for key in path.split("."):
        document = document[int(key)] if isinstance(document, list) else document[key]
    return document


def _judge(gate: GateConfig, value: Any, where: str, default_max: float | None) -> GateResult:
    limit = gate.max if gate.max is not None else (default_max if gate.expect is None else None)
    if limit is not None:
        number = _number(value)
        passed = number is not None and number <= limit
    elif gate.expect is not None:
        passed = _same(value, gate.expect)
    else:
        passed = bool(value)
    return GateResult(gate.name, passed, repr(value), _expected(gate, default_max), where)


def _expected(gate: GateConfig, default_max: float | None) -> str:
    if gate.max is not None or (gate.expect is None and default_max is not None):
        return f"<= {gate.max if gate.max is not None else default_max:g}"
    return f"== {gate.expect!r}" if gate.expect is not None else "a true value"


def _same(value: Any, expected: str | int | float | bool) -> bool:
    if isinstance(expected, bool):
        return str(value).lower() in (("true", "1", "t", "yes") if expected else ("false", "0", "f", "no"))
    if isinstance(expected, int | float):
        return _number(value) == float(expected)
    return str(value) == expected


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
