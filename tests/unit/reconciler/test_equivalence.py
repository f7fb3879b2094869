"""Properties over random datasets: incremental == full sweep, and key ranges add up.

Each example starts from a clean baseline (every Aurora customer mirrored
correctly), applies random changes on either side, then checks that the
full sweep reports nothing outside the changed keys and exactly what the
incremental path reports for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from itertools import pairwise
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.compare import DiffPolicy
from reconciler.diff import diff_keys, diff_sorted
from reconciler.mapping import MAPPINGS, SystemMapping
from reconciler.model import Deferred, Finding
from reconciler.normalise import canonical_key
from reconciler.sources.memory import InMemorySource

from .builders import NOW, SETTLED, aurora_records, customer, mirror, run, sorted_records

BASELINE = SETTLED - timedelta(days=1)  # when the clean state was written
CHANGED = SETTLED  # when the random changes happened: a day later, outside the grace window

OPS = (
    "aurora_email",
    "aurora_touch",
    "aurora_insert",
    "aurora_delete",
    "aurora_soft_delete",
    "saas_email",
    "saas_respell",
    "saas_delete",
    "saas_duplicate",
    "saas_orphan",
    "recent_edit",
)


@dataclass
class World:
    mapping: SystemMapping
    rows: dict[str, dict[str, Any]]
    objects: list[dict[str, Any]]
    changed: set[str] = field(default_factory=set)
    next_id: int = 10_000

    def saas_of(self, cust_no: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o.get(self.mapping.link_field) == cust_no]

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id


def _baseline(mapping: SystemMapping, size: int) -> World:
    rows = {r["cust_no"]: r for r in (customer(n, updated_at=BASELINE) for n in range(size))}
    objects = [mirror(mapping, r, n + 1) for n, r in enumerate(rows.values())]
    return World(mapping, rows, objects)


def _apply(world: World, op: str, n: int) -> None:
    cust_no = f"C{n:06d}"
    row = world.rows.get(cust_no)
    copies = world.saas_of(cust_no)
    m = world.mapping
    world.changed.add(canonical_key(cust_no))
    if op == "aurora_insert" and row is None:
        world.rows[cust_no] = customer(n, updated_at=CHANGED)
    elif row is None or not copies:
        return  # the other ops need a mirrored customer; a no-op change is still a "changed" key
    elif op == "aurora_email":
        row.update(email=f"changed{n}@example.net", updated_at=CHANGED)
    elif op == "aurora_touch":
        row.update(updated_at=CHANGED)
    elif op == "aurora_delete":
        del world.rows[cust_no]
    elif op == "aurora_soft_delete":
        row.update(status="DELETED", updated_at=CHANGED)
    elif op == "saas_email":
        copies[0].update(email=f"typo{n}@example.org", updated_at=CHANGED.isoformat())
    elif op == "saas_respell":
        copies[0].update(email=str(row["email"]).upper(), updated_at=CHANGED.isoformat())
    elif op == "saas_delete":
        world.objects.remove(copies[0])
    elif op == "saas_duplicate":
        world.objects.append(mirror(m, row, world.new_id(), updated_at=CHANGED.isoformat()))
    elif op == "saas_orphan":
        stray = customer(n + 50_000, updated_at=CHANGED)
        world.objects.append(mirror(m, stray, world.new_id()))
        world.changed.add(canonical_key(stray["cust_no"]))
    elif op == "recent_edit":
        row.update(given_name="Renamed", updated_at=NOW - timedelta(minutes=1))


# (mapping, customers in the baseline, changes as (op, customer number), customers held by live sagas)
worlds = st.tuples(
    st.sampled_from(sorted(MAPPINGS.values(), key=lambda m: m.system)),
    st.integers(min_value=0, max_value=40),
    st.lists(st.tuples(st.sampled_from(OPS), st.integers(min_value=0, max_value=45)), max_size=25),
    st.sets(st.integers(min_value=0, max_value=45), max_size=5),
)


@settings(max_examples=200, deadline=None)
@given(worlds)
def test_incremental_over_changed_keys_equals_the_full_sweep(
    case: tuple[SystemMapping, int, list[tuple[str, int]], set[int]],
) -> None:
    mapping, size, ops, in_flight_numbers = case
    world = _baseline(mapping, size)
    assert run(mapping, world.rows.values(), world.objects) == []  # the baseline is clean
    for op, n in ops:
        _apply(world, op, n)
    policy = DiffPolicy(now=NOW, in_flight=frozenset(f"C{n:06d}" for n in in_flight_numbers))

    full = run(mapping, world.rows.values(), world.objects, policy=policy)
    aurora = InMemorySource("aurora", aurora_records(world.rows.values()))
    saas = InMemorySource(mapping.system, sorted_records(mapping, world.objects))
    incremental = list(
        diff_keys(mapping, policy, world.changed, aurora.get_many, saas.get_many, batch_size=7)
    )

    # Findings agree exactly; a full sweep also defers clean keys that a saga holds, which an
    # incremental run only sees once the saga changes them.
    full_findings = [o for o in full if isinstance(o, Finding)]
    assert {f.key for f in full_findings} <= world.changed
    assert [o for o in incremental if isinstance(o, Finding)] == full_findings
    assert [o for o in incremental if isinstance(o, Deferred)] == [
        o for o in full if isinstance(o, Deferred) and o.key in world.changed
    ]


@settings(max_examples=100, deadline=None)
@given(worlds, st.lists(st.integers(min_value=0, max_value=60), max_size=6))
def test_key_ranges_partition_the_full_sweep(
    case: tuple[SystemMapping, int, list[tuple[str, int]], set[int]], cuts: list[int]
) -> None:
    mapping, size, ops, _ = case
    world = _baseline(mapping, size)
    for op, n in ops:
        _apply(world, op, n)
    bounds: list[str | None] = [None, *sorted({f"C{c:06d}" for c in cuts}), None]
    aurora = InMemorySource("aurora", aurora_records(world.rows.values()))
    saas = InMemorySource(mapping.system, sorted_records(mapping, world.objects))
    policy = DiffPolicy(now=NOW)
    pieces = [
        outcome
        for lo, hi in pairwise(bounds)
        for outcome in diff_sorted(
            mapping, policy, aurora.iter_sorted(lo, hi), saas.iter_sorted(lo, hi), key_from=lo, key_to=hi
        )
    ]
    assert pieces == run(mapping, world.rows.values(), world.objects, policy=policy)
