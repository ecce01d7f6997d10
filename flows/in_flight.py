"""Tenant tasks handed to Prefect no faster than their database host can take them.

Each tenant task occupies a slot of its host's global concurrency limit (``db-host:<host:port>``). A
wave of 50 tenants submitted at once under a limit of 8 leaves 42 tasks asking the server for a slot;
each refused ask comes back with a ``Retry-After`` that grows with the slots denied so far (up to 30 s),
so freed slots stood idle while their next tenants slept (measured: most of a 1,000-tenant run's
pre-flight). Here the flow submits at most a host's slots of its tenants at a time and the next one the
moment one finishes: the slot it asks for is then almost always free. Prefect's limit stays the bound
across runs, workers and machines; this only keeps one run from queueing on it. A killed flow takes its
count with it: nothing is held outside the flow run.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def submit_paced(items: Sequence[T], submit: Callable[[T], Any], key: Callable[[T], str],
                 slots: Mapping[str, int], default: int, stop_on_failure: bool = False) -> list[tuple[T, Any]]:
    """``submit(item)`` for each item, at most ``slots[key(item)]`` (else ``default``) of one key unfinished
    at a time, each key's items in their order; a key with its slots all busy holds back only its own items.
    Blocks until every item is submitted; (item, future) pairs in the items' order. ``stop_on_failure``: once
    a task has failed nothing more is submitted (the failed one raises when its result is read)."""
    queues: dict[str, deque[int]] = {}
    for index, item in enumerate(items):
        queues.setdefault(key(item), deque()).append(index)
    room = {name: max(1, slots.get(name, default)) for name in queues}
    busy = dict.fromkeys(queues, 0)
    changed = threading.Condition()
    failed = threading.Event()
    futures: dict[int, Any] = {}

    def finished(done: Any, name: str) -> None:
        try:
            if stop_on_failure and not ended_well(done):
                failed.set()
        finally:
            with changed:
                busy[name] -= 1
                changed.notify_all()

    def free() -> list[str]:
        return [name for name, queue in queues.items() if queue and busy[name] < room[name]]

    while any(queues.values()):
        with changed:
            changed.wait_for(lambda: failed.is_set() or bool(free()))
            if failed.is_set():
                break
            ready = free()
            for name in ready:
                busy[name] += 1
        for name in ready:  # outside the lock: a task that ends at once calls finished() right here
            index = queues[name].popleft()
            try:
                future = submit(items[index])
            except BaseException:
                with changed:
                    busy[name] -= 1
                raise
            futures[index] = future
            future.add_done_callback(lambda done, name=name: finished(done, name))
    return [(items[index], futures[index]) for index in sorted(futures)]


def chunk_by_key(items: Sequence[T], key: Callable[[T], str], slots: Mapping[str, int], default: int,
                 most: int) -> list[list[T]]:
    """The items in chunks of one key each, in their order: enough chunks to give each of a key's slots one,
    at most ``most`` items a chunk (a chunk is one task: fewer tasks, each doing more)."""
    by_key: dict[str, list[T]] = {}
    for item in items:
        by_key.setdefault(key(item), []).append(item)
    chunks: list[list[T]] = []
    for name, members in by_key.items():
        size = max(1, min(most, -(-len(members) // max(1, slots.get(name, default)))))
        chunks += [members[i:i + size] for i in range(0, len(members), size)]
    return chunks


def ended_well(future: Any) -> bool:
    """Whether a finished task's future holds a Completed state (its final state is on the future by now)."""
    future.wait(0)
    return bool(future.state.is_completed())
