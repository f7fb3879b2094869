"""The environment pool's rules: reuse the warmest, cap concurrency, reap the idle."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from instrumented_app.runtime.invoker import LocalInvoker
from instrumented_app.runtime.pool import EnvironmentPool
from instrumented_app.runtime.types import FunctionSpec
from tests.unit.runtime.test_invoker_harness import REGION, MotoStack, log_messages, moto_stack, wait_for

SPEC = FunctionSpec(name="orders", handler="app.handler")


@dataclass
class FakeEnv:
    number: int
    closed: bool = False
    killed: bool = False

    def close(self) -> None:
        self.closed = True

    def kill(self) -> None:
        self.killed = True


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _pool(limit: int = 2, clock: Clock | None = None) -> tuple[EnvironmentPool[FakeEnv], list[FakeEnv]]:
    made: list[FakeEnv] = []

    def make(spec: FunctionSpec, version: str) -> FakeEnv:
        made.append(FakeEnv(len(made)))
        return made[-1]

    return EnvironmentPool(SPEC, "$LATEST", limit, make, idle_timeout_s=60, clock=clock or Clock()), made


def test_a_released_environment_is_reused_warm() -> None:
    pool, made = _pool()

    first = pool.acquire(1)
    assert first is not None and first[1] is True
    pool.release(first[0], reusable=True)
    second = pool.acquire(1)

    assert second == (made[0], False)
    assert len(made) == 1


def test_no_more_than_the_limit_are_alive_and_a_caller_waits_for_one_to_free() -> None:
    pool, made = _pool(limit=1)
    held = pool.acquire(1)
    assert held is not None

    assert pool.acquire(0.05) is None  # nothing frees in time: the caller is throttled
    threading.Timer(0.1, pool.release, args=(held[0], True)).start()
    later = pool.acquire(5)

    assert later == (made[0], False)
    assert pool.size == 1


def test_an_environment_that_cannot_be_reused_is_killed_and_frees_its_slot() -> None:
    pool, made = _pool(limit=1)
    held = pool.acquire(1)
    assert held is not None

    pool.release(held[0], reusable=False)
    fresh = pool.acquire(1)

    assert made[0].killed
    assert fresh is not None and fresh[1] is True and fresh[0] is made[1]


def test_only_environments_idle_past_the_timeout_are_reaped() -> None:
    clock = Clock()
    pool, made = _pool(clock=clock)
    a, b = pool.acquire(1), pool.acquire(1)
    assert a is not None and b is not None
    pool.release(a[0], reusable=True)
    clock.now += 45
    pool.release(b[0], reusable=True)
    clock.now += 20  # a idle for 65 s, b for 20 s

    assert pool.reap() == 1
    assert (made[0].closed, made[1].closed) == (True, False)
    assert pool.size == 1


def test_closing_shuts_idle_ones_and_kills_busy_ones_on_release() -> None:
    pool, made = _pool()
    a, b = pool.acquire(1), pool.acquire(1)
    assert a is not None and b is not None
    pool.release(a[0], reusable=True)

    pool.close()
    pool.release(b[0], reusable=True)

    assert made[0].closed and made[1].killed
    assert pool.size == 0


@pytest.fixture(scope="module")
def stack() -> Iterator[MotoStack]:
    with moto_stack() as running:
        yield running


def test_an_idle_worker_process_is_shut_down_and_the_next_call_is_cold(stack: MotoStack) -> None:
    name = stack.create_function("sample.echo")
    with LocalInvoker(aws_endpoint=stack.endpoint, region=REGION, idle_timeout_s=0.3) as invoker:
        first = invoker.invoke(name, {}).payload
        assert invoker.environments(name) == 1

        wait_for(lambda: invoker.environments(name) == 0, what="the idle environment to be reaped")
        again = invoker.invoke(name, {}).payload

    assert again["pid"] != first["pid"]
    assert again["calls"] == 1  # module state started over: a cold start


def test_bad_pool_settings_are_refused_with_the_field_named() -> None:
    with pytest.raises(ValueError, match="max_environments"):
        LocalInvoker(aws_endpoint="http://127.0.0.1:1", region=REGION, max_environments=0)
    with pytest.raises(ValueError, match="idle_timeout_s"):
        LocalInvoker(aws_endpoint="http://127.0.0.1:1", region=REGION, idle_timeout_s=0)


def test_prewarmed_environments_make_the_first_calls_warm(stack: MotoStack) -> None:
    name = stack.create_function("sample.pause")
    with LocalInvoker(aws_endpoint=stack.endpoint, region=REGION, max_environments=2) as invoker:
        assert invoker.prewarm(name, count=2) == 2
        assert invoker.prewarm(name, count=2) == 0  # both exist already
        assert invoker.environments(name) == 2
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(lambda _: invoker.invoke(name, {"seconds": 0.2}), range(2)))
        invoker.flush()

    reports = [m for _, m in log_messages(stack, name) if m.startswith("REPORT")]
    assert all(r.ok for r in results) and len({r.payload for r in results}) == 2
    assert len(reports) == 2 and not any("Init Duration" in r for r in reports)
    assert sum(m == "init: sample module imported" for _, m in log_messages(stack, name)) == 2


def test_prewarming_a_function_whose_init_fails_leaves_nothing_running(stack: MotoStack) -> None:
    name = stack.create_function("broken_import.handler")
    with LocalInvoker(aws_endpoint=stack.endpoint, region=REGION) as invoker:
        assert invoker.prewarm(name) == 0
        assert invoker.environments(name) == 0
        with pytest.raises(ValueError, match="count: must be between 1 and max_environments"):
            invoker.prewarm(name, count=5)


def test_many_threads_invoking_many_functions_never_exceed_the_limit(stack: MotoStack) -> None:
    names = [stack.create_function("sample.echo") for _ in range(3)]
    calls = [(names[i % 3], i) for i in range(600)]
    with (
        LocalInvoker(aws_endpoint=stack.endpoint, region=REGION, max_environments=2) as invoker,
        ThreadPoolExecutor(max_workers=8) as pool,
    ):
        results = list(pool.map(lambda call: invoker.invoke(call[0], {"n": call[1]}), calls))
        alive = [invoker.environments(name) for name in names]

    assert all(r.ok for r in results)
    assert [r.payload["event"]["n"] for r in results] == list(range(600))  # each caller got its own answer
    for name in names:
        pids = {r.payload["pid"] for r in results if r.function_name == name}
        assert 1 <= len(pids) <= 2
        # every call ran exactly once: the per-environment counters add up to the calls made
        last_count: dict[int, int] = {}
        for r in results:
            if r.function_name == name:
                pid = r.payload["pid"]
                last_count[pid] = max(last_count.get(pid, 0), r.payload["calls"])
        assert sum(last_count.values()) == 200
    assert all(1 <= n <= 2 for n in alive)
