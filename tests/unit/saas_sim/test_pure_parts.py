"""The pure parts under the HTTP layer: fault decisions, the leaky bucket, the idempotency store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from instrumented_app.saas_sim.clock import SimClock
from instrumented_app.saas_sim.cursors import InvalidCursor, decode_cursor, encode_cursor
from instrumented_app.saas_sim.faults import FaultConfig, FaultSwitch, decide_from_draws
from instrumented_app.saas_sim.idempotency import IdempotencyStore, StoredResponse, fingerprint
from instrumented_app.saas_sim.ratelimit import LeakyBucket


def test_draws_below_the_error_rate_fail_and_the_next_band_times_out() -> None:
    config = FaultConfig(error_rate=0.2, timeout_rate=0.3, latency_ms=50, hang_ms=700)
    assert decide_from_draws(config, 0.1, 0.2, 0.0).error_status == 503
    assert decide_from_draws(config, 0.1, 0.9, 0.0).error_status == 500
    timed_out = decide_from_draws(config, 0.4, 0.0, 0.9)
    assert timed_out.timeout == "after" and timed_out.hang_s == 0.7
    clean = decide_from_draws(config, 0.6, 0.0, 0.0)
    assert clean.clean and clean.latency_s == 0.05


def test_a_fixed_timeout_phase_is_kept() -> None:
    config = FaultConfig(timeout_rate=1.0, timeout_phase="before")
    assert decide_from_draws(config, 0.5, 0.5, 0.99).timeout == "before"


def test_the_same_seed_gives_the_same_decisions() -> None:
    switch = FaultSwitch(FaultConfig(error_rate=0.5, timeout_rate=0.2, seed=3))
    first = [switch.decide() for _ in range(50)]
    switch.configure(FaultConfig(error_rate=0.5, timeout_rate=0.2, seed=3))
    assert [switch.decide() for _ in range(50)] == first


def test_rates_that_add_up_past_one_are_refused() -> None:
    with pytest.raises(ValidationError, match="error_rate \\+ timeout_rate"):
        FaultConfig(error_rate=0.7, timeout_rate=0.4)


class _FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_leaky_bucket_fills_refuses_and_drains() -> None:
    clock = _FakeTime()
    bucket = LeakyBucket(capacity=3, leak_per_s=2.0, now=clock)
    assert [bucket.try_acquire().used for _ in range(3)] == [1, 2, 3]
    refused = bucket.try_acquire()
    assert not refused.allowed and refused.retry_after_s == pytest.approx(0.5)
    clock.now += 0.5
    assert bucket.try_acquire().allowed
    clock.now += 10
    assert bucket.try_acquire().used == 1


def test_idempotency_store_claims_replays_and_refuses() -> None:
    store = IdempotencyStore(SimClock())
    request = fingerprint("POST", "/x", "", b'{"a": 1, "b": 2}')
    assert store.begin("k", request).action == "proceed"
    assert store.begin("k", request).action == "in_flight"
    store.complete("k", StoredResponse(201, (), b"{}"))
    assert store.begin("k", fingerprint("POST", "/x", "", b'{"b":2,"a":1}')).action == "replay"
    assert store.begin("k", fingerprint("POST", "/x", "", b'{"a": 2}')).action == "mismatch"


def test_a_released_key_can_run_again() -> None:
    store = IdempotencyStore(SimClock())
    store.begin("k", "f")
    store.release("k")
    assert store.begin("k", "f").action == "proceed"


def test_keys_expire_after_their_ttl() -> None:
    clock = SimClock()
    store = IdempotencyStore(clock, ttl_s=60)
    store.begin("k", "f")
    store.complete("k", StoredResponse(200, (), b""))
    clock.set_now(datetime.now(UTC) + timedelta(minutes=2))
    assert store.begin("k", "other").action == "proceed"


def test_cursors_round_trip_and_forgeries_are_refused() -> None:
    token = encode_cursor({"id": 5})
    assert decode_cursor(token, ("id",)) == {"id": 5}
    with pytest.raises(InvalidCursor):
        decode_cursor(token, ("seq",))
    with pytest.raises(InvalidCursor):
        decode_cursor("%%%", ("id",))
