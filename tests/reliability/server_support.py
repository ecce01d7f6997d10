"""Shared machinery for the fault scenarios: S3 that fails on purpose, private database servers,
row checksums and a `dualpath` subprocess.

Private servers exist so a test may stop, kill and restart "the database" without touching the
shared servers other tests run against in parallel.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from dualpath.engines import open_engine

DUALPATH = Path(sys.executable).parent / "dualpath"
PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the CLI as a user runs it ----------------------------------------------------------------


@dataclass
class Ran:
    code: int
    output: str  # stdout and stderr together
    seconds: float


def run_dualpath(*args: str, cwd: Path, timeout: float = 180, env: dict[str, str] | None = None) -> Ran:
    """`.venv/bin/dualpath ARGS` in ``cwd``; a hang past ``timeout`` fails the test."""
    started = time.monotonic()
    try:
        done = subprocess.run([str(DUALPATH), *args], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "COLUMNS": "200", **(env or {})}, check=False)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"dualpath {' '.join(args)} still running after {timeout} s: {exc.output!r}", pytrace=False)
    return Ran(done.returncode, done.stdout + done.stderr, time.monotonic() - started)


def assert_no_crash(ran: Ran) -> None:
    """A failure is explained, never a traceback or an 'internal error'."""
    assert "Traceback" not in ran.output, ran.output
    assert "internal error" not in ran.output, ran.output


# -- database state ---------------------------------------------------------------------------


def row_checksums(url: str) -> dict[str, str]:
    """sha256 of every user table's rows in key order (dualpath's own tables left out)."""
    engine = open_engine(url)
    sums: dict[str, str] = {}
    with engine.connect() as conn:
        for table in engine.iter_tables(conn):
            if table.rsplit(".", 1)[-1].lower().startswith("dualpath_"):
                continue
            quoted = ".".join(engine.quote_ident(p) for p in table.split("."))
            rows = conn.exec_driver_sql(f"SELECT * FROM {quoted} ORDER BY 1").fetchall()
            sums[table] = hashlib.sha256(repr([tuple(map(str, r)) for r in rows]).encode()).hexdigest()
        conn.rollback()
    return sums


def database_state(url: str) -> tuple[str, dict[str, str]]:
    """(schema fingerprint digest, row checksums): equal before and after means nothing changed."""
    engine = open_engine(url)
    with engine.connect() as conn:
        digest = engine.fingerprint(conn).digest
        conn.rollback()
    return digest, row_checksums(url)


# -- moto, and an S3 that fails on purpose ----------------------------------------------------


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's S3 server on a free loopback port; yields its endpoint."""
    port = free_port()
    proc = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(f"{endpoint}/moto-api/"), 20, f"moto_server on {endpoint}", proc)
        yield endpoint
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=1).close()
        return True
    except OSError:
        return False


def create_bucket(endpoint: str, bucket: str) -> None:
    import boto3

    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                 aws_secret_access_key="testing").create_bucket(Bucket=bucket)


def bucket_keys(endpoint: str, bucket: str) -> list[str]:
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", []))


_ERROR_XML = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message>"
              "<RequestId>fault-{n}</RequestId></Error>")
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


@dataclass
class FaultyS3:
    """An HTTP front for moto that answers chosen requests with an S3 error instead of passing them on.

    ``fails(method, path, n)`` decides per request (n counts from 1); everything else is proxied.
    """

    upstream: str
    fails: object  # Callable[[str, str, int], bool]
    status: int = 503
    code: str = "SlowDown"
    mangle: object = None  # Callable[[str, str, bytes], bytes]: rewrites a proxied answer's body
    seen: list[tuple[str, str, int]] = field(default_factory=list)  # (method, path, status answered)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @contextmanager
    def serve(self) -> Iterator[str]:
        front = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:  # quiet
                pass

            def handle_one(self) -> None:
                body = self._read_body()
                with front._lock:
                    n = len(front.seen) + 1
                    failing = bool(front.fails(self.command, self.path, n))  # type: ignore[operator]
                    front.seen.append((self.command, self.path, front.status if failing else 0))
                if failing:
                    self._answer_error(n)
                else:
                    self._proxy(body)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = handle_one

            def _read_body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    data = b""
                    while (size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)) > 0:
                        data += self.rfile.read(size)
                        self.rfile.readline()
                    while self.rfile.readline().strip():  # trailers
                        pass
                    return data
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _answer_error(self, n: int) -> None:
                text = _ERROR_XML.format(code=front.code, message="injected by the reliability suite", n=n).encode()
                self.send_response(front.status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(0 if self.command == "HEAD" else len(text)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(text)

            def _proxy(self, body: bytes) -> None:
                host, port = front.upstream.removeprefix("http://").split(":")
                conn = http.client.HTTPConnection(host, int(port), timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    headers["Content-Length"] = str(len(body))
                conn.request(self.command, self.path, body=body or None, headers=headers)
                reply = conn.getresponse()
                data = reply.read()
                if front.mangle is not None and reply.status == 200:
                    data = front.mangle(self.command, self.path, data)  # type: ignore[operator]
                self.send_response(reply.status)
                for key, value in reply.getheaders():
                    if key.lower() not in _HOP_BY_HOP and key.lower() != "content-length":
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)) if self.command != "HEAD"
                                 else reply.getheader("Content-Length", "0"))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()

    def answered(self, status: int) -> int:
        return sum(1 for _, _, s in self.seen if s == status)


@contextmanager
def blackhole() -> Iterator[str]:
    """A port that accepts connections (the kernel does) and never answers: a hung endpoint."""
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        s.listen(64)
        yield f"http://127.0.0.1:{s.getsockname()[1]}"


# -- private database servers -----------------------------------------------------------------


def wait_for(ready: object, seconds: float, what: str, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + seconds
    while not ready():  # type: ignore[operator]
        if (proc is not None and proc.poll() is not None) or time.monotonic() > deadline:
            pytest.fail(f"{what} did not come up within {seconds} s", pytrace=False)
        time.sleep(0.1)


def _require(path: Path | str, package: str) -> str:
    found = shutil.which(str(path)) or (str(path) if Path(path).exists() else None)
    if not found:
        pytest.fail(f"{path} is missing: install {package} (apt-get install {package})", pytrace=False)
    return found


class PrivatePostgres:
    """A throw-away PostgreSQL 15 cluster on its own port, owned by user postgres."""

    def __init__(self) -> None:
        _require(PG_BIN / "initdb", "postgresql-15")
        self.root = Path(tempfile.mkdtemp(prefix="dp-private-pg-"))
        shutil.chown(self.root, "postgres", "postgres")
        self.data = self.root / "data"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._pg("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def _pg(self, tool: str, *args: str) -> None:
        done = subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / tool), *args],
                              capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            pytest.fail(f"private PostgreSQL: {tool} failed: {done.stderr.strip() or done.stdout.strip()}",
                        pytrace=False)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._pg("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start")

    def crash(self) -> None:
        """Immediate shutdown: no checkpoint, every session cut, like a crash."""
        self._pg("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def restart(self) -> None:
        self.crash()
        self.start()

    def close(self) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(self.data),
                        "-m", "immediate", "-w", "stop"], capture_output=True, timeout=60, check=False)
        shutil.rmtree(self.root, ignore_errors=True)


class PrivateMariadb:
    """A throw-away MariaDB on its own port and socket; root without a password."""

    def __init__(self) -> None:
        _require("mariadb-install-db", "mariadb-server")
        self.binary = _require("mariadbd", "mariadb-server")
        self.root = Path(tempfile.mkdtemp(prefix="dp-private-mariadb-"))
        shutil.chown(self.root, "mysql", "mysql")
        self.data = self.root / "data"
        self.port = free_port()
        self.url = f"mysql://root@127.0.0.1:{self.port}/mysql"
        self.proc: subprocess.Popen[bytes] | None = None
        done = subprocess.run(["mariadb-install-db", "--no-defaults", f"--datadir={self.data}", "--user=mysql",
                               "--auth-root-authentication-method=normal", "--skip-test-db"],
                              capture_output=True, text=True, timeout=180, check=False)
        if done.returncode != 0:
            pytest.fail(f"private MariaDB: mariadb-install-db failed: {done.stderr.strip()[-800:]}", pytrace=False)

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "--no-defaults", f"--datadir={self.data}", f"--port={self.port}",
             "--bind-address=127.0.0.1", f"--socket={self.root / 's.sock'}", "--user=mysql",
             f"--pid-file={self.root / 'pid'}", f"--log-error={self.root / 'err.log'}",
             "--innodb-buffer-pool-size=32M", "--skip-log-bin", "--innodb-flush-log-at-trx-commit=2"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(self._answers, 60, f"private MariaDB on 127.0.0.1:{self.port} (see {self.root}/err.log)", self.proc)

    def _answers(self) -> bool:
        try:
            with closing(socket.create_connection(("127.0.0.1", self.port), timeout=1)) as s:
                return bool(s.recv(1))  # the server greets first once it accepts clients
        except OSError:
            return False

    def crash(self) -> None:
        """kill -9: every session cut, InnoDB recovers on the next start."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=30)
            self.proc = None

    def restart(self) -> None:
        self.crash()
        self.start()

    def close(self) -> None:
        self.crash()
        shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def private_server(kind: str) -> Iterator[PrivatePostgres | PrivateMariadb]:
    server = PrivatePostgres() if kind == "postgresql" else PrivateMariadb()
    try:
        server.start()
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def private_pg() -> Iterator[PrivatePostgres]:
    with private_server("postgresql") as server:
        yield server  # type: ignore[misc]


@pytest.fixture(scope="session")
def private_mariadb() -> Iterator[PrivateMariadb]:
    with private_server("mysql") as server:
        yield server  # type: ignore[misc]
