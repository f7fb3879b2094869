"""The loop ``sagawatch up`` runs: passes one at a time, a failing pass does not end it, stop is bounded."""

from __future__ import annotations

import threading
import time

import pytest

from collectors.runner import CollectorLoop


class SlowCollector:
    """Records overlap: a pass that starts while another runs would be a bug."""

    def __init__(self, pass_s: float, fail_every: int = 0) -> None:
        self.pass_s = pass_s
        self.fail_every = fail_every
        self.running = 0
        self.max_running = 0
        self.calls = 0
        self.lock = threading.Lock()

    def run_once(self) -> None:
        with self.lock:
            self.calls += 1
            self.running += 1
            self.max_running = max(self.max_running, self.running)
            call = self.calls
        try:
            time.sleep(self.pass_s)
            if self.fail_every and call % self.fail_every == 0:
                raise RuntimeError("cannot reach the audit store: password=***")
        finally:
            with self.lock:
                self.running -= 1


def wait_for(condition: object, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.01)
    raise AssertionError("condition not met")


def test_a_pass_longer_than_the_interval_delays_the_next_instead_of_overlapping() -> None:
    collector = SlowCollector(pass_s=0.05)
    loop = CollectorLoop(collector, interval_s=0.01)
    loop.start()
    wait_for(lambda: collector.calls >= 5)
    loop.stop()
    assert collector.max_running == 1


def test_a_failing_pass_is_remembered_and_the_loop_goes_on() -> None:
    collector = SlowCollector(pass_s=0.0, fail_every=1)
    loop = CollectorLoop(collector, interval_s=0.01)
    loop.start()
    wait_for(lambda: collector.calls >= 4)
    loop.stop()
    assert loop.passes >= 4  # every pass failed, and the loop kept going
    assert loop.last_error == "cannot reach the audit store: password=***"


def test_stop_returns_after_the_pass_in_progress_and_no_pass_follows() -> None:
    collector = SlowCollector(pass_s=0.2)
    loop = CollectorLoop(collector, interval_s=60)
    loop.start()
    wait_for(lambda: collector.running == 1)
    loop.stop(timeout_s=5)
    calls = collector.calls
    time.sleep(0.3)
    assert collector.calls == calls == 1 and collector.running == 0


def test_interval_must_be_positive_and_start_is_once() -> None:
    with pytest.raises(ValueError, match="interval_s"):
        CollectorLoop(SlowCollector(0), interval_s=0)
    loop = CollectorLoop(SlowCollector(0), interval_s=1)
    loop.start()
    with pytest.raises(RuntimeError, match="already running"):
        loop.start()
    loop.stop()
