"""Run modes over sources: full sweep, incremental planning and watermarks, carried-over keys."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from reconciler.compare import DiffPolicy
from reconciler.mapping import COMMERCE
from reconciler.model import DeferReason, Deferred, Finding
from reconciler.modes import (
    IncrementalPlan,
    Watermarks,
    full_sweep,
    incremental,
    plan_incremental,
    split_ranges,
)
from reconciler.sources.base import Source, Watermark
from reconciler.sources.memory import InMemorySource

from .builders import NOW, SETTLED, aurora_records, customer, mirror, sorted_records

LAST_RUN = SETTLED - timedelta(hours=1)
MARKS = Watermarks(aurora=Watermark(LAST_RUN), saas=Watermark(LAST_RUN))
EARLIER = SETTLED - timedelta(days=5)


def _sources(rows: list[dict[str, Any]], objects: list[dict[str, Any]]) -> tuple[Source, Source]:
    return (
        InMemorySource("aurora", aurora_records(rows)),
        InMemorySource("commerce", sorted_records(COMMERCE, objects)),
    )


def _world() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Ten customers synced long ago; then C000003 changed in Aurora and C000007's copy was edited."""
    rows = [customer(n, updated_at=EARLIER) for n in range(10)]
    objects = [mirror(COMMERCE, r, n) for n, r in enumerate(rows)]
    rows[3].update(email="new3@example.com", updated_at=SETTLED)
    objects[7].update(phone="+819011112222", updated_at=SETTLED.isoformat())
    return rows, objects


def test_the_in_memory_source_keeps_the_protocol() -> None:
    aurora, saas = _sources(*_world())
    assert isinstance(aurora, Source) and isinstance(saas, Source)
    assert [r.key for r in saas.iter_sorted("C000002", "C000004")] == ["C000002", "C000003"]
    assert [r.key for r in saas.get_many(["C000009", "C000001", "NOPE"])] == ["C000001", "C000009"]


def test_full_sweep_over_sources_finds_both_changes() -> None:
    aurora, saas = _sources(*_world())
    found = list(full_sweep(COMMERCE, DiffPolicy(now=NOW), aurora, saas))
    assert [(f.key, f.field) for f in found if isinstance(f, Finding)] == [
        ("C000003", "email"),
        ("C000007", "phone"),
    ]


def test_incremental_plans_only_the_changed_keys_and_agrees_with_the_sweep() -> None:
    aurora, saas = _sources(*_world())
    policy = DiffPolicy(now=NOW)
    plan = plan_incremental(aurora, saas, MARKS, policy)
    assert plan.keys == {"C000003", "C000007"}
    assert list(incremental(COMMERCE, policy, aurora, saas, plan)) == list(
        full_sweep(COMMERCE, policy, aurora, saas)
    )


def test_watermarks_advance_to_the_latest_change_seen() -> None:
    aurora, saas = _sources(*_world())
    plan = plan_incremental(aurora, saas, MARKS, DiffPolicy(now=NOW))
    assert plan.next_marks == Watermarks(aurora=Watermark(SETTLED), saas=Watermark(SETTLED))


def test_watermarks_do_not_move_when_nothing_changed() -> None:
    rows = [customer(n, updated_at=EARLIER) for n in range(3)]
    aurora, saas = _sources(rows, [mirror(COMMERCE, r, n) for n, r in enumerate(rows)])
    plan = plan_incremental(aurora, saas, MARKS, DiffPolicy(now=NOW))
    assert plan == IncrementalPlan(keys=frozenset(), next_marks=MARKS)


def test_a_change_inside_the_grace_window_is_read_again_next_run() -> None:
    rows, objects = _world()
    rows[5].update(given_name="Changed", updated_at=NOW - timedelta(minutes=1))
    aurora, saas = _sources(rows, objects)
    policy = DiffPolicy(now=NOW, grace=timedelta(minutes=5))
    plan = plan_incremental(aurora, saas, MARKS, policy)
    outcomes = list(incremental(COMMERCE, policy, aurora, saas, plan))
    assert (
        Deferred(
            system="commerce",
            key="C000005",
            reason=DeferReason.GRACE_WINDOW,
            detail=f"aurora changed at {rows[5]['updated_at'].isoformat()}",
        )
        in outcomes
    )
    assert plan.next_marks.aurora.updated_at == NOW - timedelta(minutes=5)

    later = DiffPolicy(now=NOW + timedelta(minutes=10), grace=timedelta(minutes=5))
    next_plan = plan_incremental(aurora, saas, plan.next_marks, later)
    assert "C000005" in next_plan.keys
    # C000007 is read again too: changes exactly at a watermark are re-read, which is harmless.
    assert [
        o.key for o in incremental(COMMERCE, later, aurora, saas, next_plan) if isinstance(o, Finding)
    ] == [
        "C000005",
        "C000007",
    ]


def test_keys_deferred_for_a_saga_are_carried_into_the_next_run() -> None:
    rows, objects = _world()
    rows[8].update(given_name="Later", updated_at=SETTLED + timedelta(hours=1))  # moves the watermark on
    aurora, saas = _sources(rows, objects)
    during = DiffPolicy(now=NOW, in_flight=frozenset({"C000003"}))
    first = plan_incremental(aurora, saas, MARKS, during)
    deferred = [o.key for o in incremental(COMMERCE, during, aurora, saas, first) if isinstance(o, Deferred)]
    assert deferred == ["C000003"]

    after = DiffPolicy(now=NOW + timedelta(hours=1))  # the saga ended without touching the customer again
    assert "C000003" not in plan_incremental(aurora, saas, first.next_marks, after).keys
    second = plan_incremental(aurora, saas, first.next_marks, after, carry_over=deferred)
    assert "C000003" in second.keys
    found = [
        (o.key, o.field) for o in incremental(COMMERCE, after, aurora, saas, second) if isinstance(o, Finding)
    ]
    assert ("C000003", "email") in found


def test_split_ranges_cover_every_key_once() -> None:
    assert split_ranges([]) == [(None, None)]
    ranges = split_ranges(["C000003", "C000006"])
    assert ranges == [(None, "C000003"), ("C000003", "C000006"), ("C000006", None)]
    aurora, saas = _sources(*_world())
    policy = DiffPolicy(now=NOW)
    pieces = [
        o for lo, hi in ranges for o in full_sweep(COMMERCE, policy, aurora, saas, key_from=lo, key_to=hi)
    ]
    assert pieces == list(full_sweep(COMMERCE, policy, aurora, saas))


def test_split_ranges_refuses_boundaries_out_of_order() -> None:
    with pytest.raises(ValueError, match="boundaries must ascend without repeats: 'C9' then 'C1'"):
        split_ranges(["C9", "C1"])


class _FailingListing(InMemorySource):
    """A SaaS whose listing breaks after its first record (a system that went away mid-sweep)."""

    def iter_sorted(self, key_from: str | None = None, key_to: str | None = None) -> Any:
        listing = super().iter_sorted(key_from, key_to)
        yield next(listing)
        raise RuntimeError("commerce: connection reset")


class _TrackedAurora(InMemorySource):
    """Aurora whose listing notes when it is closed (the real one holds a server-side cursor)."""

    closed = False

    def iter_sorted(self, key_from: str | None = None, key_to: str | None = None) -> Any:
        try:
            yield from super().iter_sorted(key_from, key_to)
        finally:
            type(self).closed = True


def test_a_sweep_that_fails_closes_the_aurora_listing_at_once() -> None:
    rows, objects = _world()
    aurora = _TrackedAurora("aurora", aurora_records(rows))
    saas = _FailingListing("commerce", sorted_records(COMMERCE, objects))
    with pytest.raises(RuntimeError, match="connection reset"):
        list(full_sweep(COMMERCE, DiffPolicy(now=NOW), aurora, saas))
    assert _TrackedAurora.closed  # not left for the garbage collector, after its database may be gone
