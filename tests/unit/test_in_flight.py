"""Tenant tasks are handed over no faster than their host's slots: the flow holds the rest back itself."""

from __future__ import annotations

import concurrent.futures
import threading
from types import SimpleNamespace
from typing import Any

from dualpath.flows.in_flight import chunk_by_key, submit_paced

WAIT_S = 30  # a guard against a hang, never a measure: every wait below ends by an event the test sets


class Task:
    """A submitted task the test finishes by hand, with the parts of a Prefect future the pacing uses."""

    def __init__(self, name: str) -> None:
        self.name, self.ok, self._done = name, True, concurrent.futures.Future()  # type: ignore[var-annotated]

    def add_done_callback(self, fn: Any) -> None:
        self._done.add_done_callback(lambda _f: fn(self))

    def wait(self, timeout: float | None = None) -> None:
        self._done.result(timeout)

    @property
    def state(self) -> Any:
        return SimpleNamespace(is_completed=lambda: self.ok)

    def finish(self, ok: bool = True) -> None:
        self.ok = ok
        self._done.set_result(None)


class Pacing:
    """submit_paced in a thread of its own; what it submitted, and how many of a key were unfinished."""

    def __init__(self, items: list[str], slots: dict[str, int], stop_on_failure: bool = False) -> None:
        self.tasks: dict[str, Task] = {}
        self.peak: dict[str, int] = {}
        self.changed = threading.Condition()
        self.result: list[tuple[str, Any]] = []
        self.thread = threading.Thread(target=lambda: self.result.extend(
            submit_paced(items, self.submit, lambda item: item[0], slots, 1, stop_on_failure)))
        self.thread.start()

    def submit(self, item: str) -> Task:
        with self.changed:
            task = self.tasks[item] = Task(item)
            running = sum(1 for t in self.tasks.values() if t.name[0] == item[0] and not t._done.done())
            self.peak[item[0]] = max(self.peak.get(item[0], 0), running)
            self.changed.notify_all()
        return task

    def until_submitted(self, *items: str) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: all(i in self.tasks for i in items), WAIT_S), sorted(self.tasks)

    def end(self) -> list[tuple[str, Any]]:
        self.thread.join(WAIT_S)
        assert not self.thread.is_alive()
        return self.result


def test_each_host_gets_no_more_than_its_slots_and_a_busy_host_holds_back_only_its_own() -> None:
    pacing = Pacing(["a1", "a2", "b1", "a3", "b2", "a4"], {"a": 2, "b": 1})
    pacing.until_submitted("a1", "a2", "b1")
    assert set(pacing.tasks) == {"a1", "a2", "b1"}  # a3 waits for a slot of a, b2 for b's one
    pacing.tasks["b1"].finish()
    pacing.until_submitted("b2")  # b moves on while a is still full
    assert "a3" not in pacing.tasks
    pacing.tasks["a1"].finish()
    pacing.until_submitted("a3")
    for name in ("a2", "a3", "b2"):
        pacing.tasks[name].finish()
    pacing.until_submitted("a4")
    pacing.tasks["a4"].finish()
    result = pacing.end()
    assert [item for item, _ in result] == ["a1", "a2", "b1", "a3", "b2", "a4"]  # the items' order
    assert all(future is pacing.tasks[item] for item, future in result)
    assert pacing.peak == {"a": 2, "b": 1}


def test_after_a_failure_nothing_more_is_submitted_when_asked() -> None:
    pacing = Pacing(["a1", "a2", "a3"], {"a": 1}, stop_on_failure=True)
    pacing.until_submitted("a1")
    pacing.tasks["a1"].finish(ok=False)
    result = pacing.end()
    assert [item for item, _ in result] == ["a1"]  # a2 and a3 never started


def test_a_failure_does_not_stop_the_others_by_default() -> None:
    pacing = Pacing(["a1", "a2"], {"a": 1})
    pacing.until_submitted("a1")
    pacing.tasks["a1"].finish(ok=False)
    pacing.until_submitted("a2")
    pacing.tasks["a2"].finish()
    assert [item for item, _ in pacing.end()] == ["a1", "a2"]


def test_chunks_fill_a_hosts_slots_and_never_mix_hosts() -> None:
    def chunks(items: list[str], slots: dict[str, int], most: int = 25) -> list[list[str]]:
        return chunk_by_key(items, lambda item: item[0], slots, 8, most)

    thousand = [f"a{i}" for i in range(1000)]
    assert [len(c) for c in chunks(thousand, {"a": 8})] == [25] * 40  # capped: 40 tasks, not 1,000
    assert chunks(["a1", "a2", "a3"], {"a": 8}) == [["a1"], ["a2"], ["a3"]]  # a handful: a task each
    assert [len(c) for c in chunks([f"a{i}" for i in range(20)], {"a": 8})] == [3] * 6 + [2]  # every slot busy
    mixed = chunks(["a1", "b1", "a2", "b2", "a3"], {"a": 1}, most=2)  # b: the default's 8 slots
    assert mixed == [["a1", "a2"], ["a3"], ["b1"], ["b2"]]
    assert [item for chunk in chunks(thousand, {"a": 3}) for item in chunk] == thousand  # order kept, none lost
