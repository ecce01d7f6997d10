"""A worker's tenant tasks queue for their host's slots on a local semaphore, not by polling Prefect."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from dualpath.tenants import TenantTarget, open_environment


def test_no_more_tenants_ask_prefect_for_a_slot_than_the_host_has(prefect_api: str, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from dualpath.tasks import tenant as tasks

    config = tmp_path / "dualpath.toml"
    config.write_text('[environments.slots]\nhost_concurrency = 2\n'
                      'tenant_url_template = "postgresql://u@db-slots.example:5432/{tenant}"\n'
                      'tenant_names = ["a", "b", "c", "d", "e", "f"]\n')
    ctx = open_environment("slots", str(config))
    inside, most, lock, release = [0], [0], threading.Lock(), threading.Event()
    real = tasks.concurrency

    @contextmanager
    def counted(*args: Any, **kwargs: Any) -> Iterator[None]:  # Prefect's own, counted
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        try:
            with real(*args, **kwargs):
                yield
        finally:
            with lock:
                inside[0] -= 1

    monkeypatch.setattr(tasks, "concurrency", counted)

    def tenant(name: str) -> None:
        with tasks.host_slot(ctx, TenantTarget(name, f"postgresql://u@db-slots.example:5432/{name}")):
            release.wait(30)

    threads = [threading.Thread(target=tenant, args=(n,)) for n in "abcdef"]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 3  # the others get 3 s to crowd in; with the gate they never do
    while time.monotonic() < deadline and most[0] <= 2:
        time.sleep(0.05)
    release.set()
    for t in threads:
        t.join(30)
    assert most[0] == 2
