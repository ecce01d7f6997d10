"""Gates: SQL values, HTTP status and JSON fields from a local HTTP endpoint, built-ins, failures fail."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from dualpath.config import GateConfig
from dualpath.errors import TargetRefused
from dualpath.gates import check_gate, check_gates, refuse_failed_gates


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self.path == "/health":
            body, status = {"status": "ok", "data": {"result": [{"value": [0, "0.002"]}]}}, 200
        else:
            body, status = {"error": "nope"}, 503
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def http_base() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture
def tenant_db(tmp_path: Path) -> str:
    path = tmp_path / "t.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE flags (name TEXT, enabled INTEGER)")
        conn.execute("INSERT INTO flags VALUES ('new_checkout', 1)")
    return f"sqlite:///{path}"


def test_sql_gate_compares_the_value(tenant_db: str) -> None:
    ok = GateConfig(name="flag on", kind="sql", query="SELECT enabled FROM flags WHERE name = 'new_checkout'",
                    expect=1)
    assert check_gate(ok, tenant_db, "a").passed
    low = GateConfig(name="few flags", kind="sql", query="SELECT count(*) FROM flags", max=0)
    result = check_gate(low, tenant_db, "a")
    assert not result.passed and result.observed == "1" and result.expected == "<= 0"


def test_a_gate_that_cannot_be_evaluated_fails(tenant_db: str) -> None:
    broken = GateConfig(name="bad sql", kind="sql", query="SELECT nope FROM missing")
    result = check_gate(broken, tenant_db, "a")
    assert not result.passed and result.observed.startswith("error:")


def test_http_gates_on_status_and_json_field(http_base: str) -> None:
    health = GateConfig(name="health", kind="http", url=f"{http_base}/health", json_field="status", expect="ok")
    error_rate = GateConfig(name="errors", kind="http", url=f"{http_base}/health",
                            json_field="data.result.0.value.1", max=0.01)
    down = GateConfig(name="down", kind="http", url=f"{http_base}/down")
    results = check_gates([health, error_rate, down], [])
    assert [r.passed for r in results] == [True, True, False]
    assert results[2].observed == "HTTP 503"
    with pytest.raises(TargetRefused) as caught:
        refuse_failed_gates(results, "pre-flight")
    assert "down" in caught.value.message


def test_builtins_read_zero_on_sqlite_and_run_per_tenant(tenant_db: str) -> None:
    gates = [GateConfig(name="lag", kind="replication_lag"), GateConfig(name="locks", kind="lock_waits")]
    results = check_gates(gates, [("a", tenant_db), ("b", tenant_db)])
    assert len(results) == 4 and all(r.passed for r in results)
