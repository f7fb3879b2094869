"""The two run modes over real sources: full sweep and incremental (issue 7, point 4).

Both end in the same per-key judgement, so on the same data they report the
same findings; the incremental mode only chooses fewer keys. What it must
not do is lose a key: two rules make sure of that.

* The next watermark never passes ``now - grace``: a record changed inside
  the grace window is deferred this run, so the next run must read it again.
* Keys deferred for an in-flight saga are carried over (the caller keeps
  the ``Deferred`` outcomes and passes their keys back as ``carry_over``),
  because a saga can end without touching the customer again.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise

from reconciler.compare import DiffPolicy
from reconciler.diff import diff_keys, diff_sorted
from reconciler.mapping import SystemMapping
from reconciler.model import DiffStats, Outcome, Record
from reconciler.sources.base import Source, Watermark


def full_sweep(
    mapping: SystemMapping,
    policy: DiffPolicy,
    aurora: Source,
    saas: Source,
    *,
    key_from: str | None = None,
    key_to: str | None = None,
    stats: DiffStats | None = None,
) -> Generator[Outcome, None, None]:
    """Every key in ``[key_from, key_to)``: one item of a Distributed Map, or the whole table.

    Both listings are closed when this generator ends, fails or is closed: an Aurora listing
    holds a server-side cursor and its connection, which must not wait for the garbage
    collector (by then its database may be gone).
    """
    aurora_records = aurora.iter_sorted(key_from, key_to)
    saas_records = saas.iter_sorted(key_from, key_to)
    try:
        yield from diff_sorted(
            mapping, policy, aurora_records, saas_records, key_from=key_from, key_to=key_to, stats=stats
        )
    finally:
        for records in (saas_records, aurora_records):
            close = getattr(records, "close", None)
            if callable(close):
                close()


KeyRange = tuple[str | None, str | None]


def split_ranges(boundaries: Sequence[str]) -> list[KeyRange]:
    """Half-open key ranges that cover every key once: the items of a Distributed Map.

    ``["C3", "C6"]`` gives ``[(None, "C3"), ("C3", "C6"), ("C6", None)]``. The
    boundaries are canonical keys in ascending order (from Aurora, e.g.
    ``percentile_disc`` over ``upper(cust_no)``), without repeats.
    """
    for lower, upper in pairwise(boundaries):
        if not lower < upper:
            raise ValueError(f"boundaries must ascend without repeats: {lower!r} then {upper!r}")
    edges: list[str | None] = [None, *boundaries, None]
    return list(pairwise(edges))


@dataclass(frozen=True, slots=True)
class Watermarks:
    """Where the previous incremental run stopped, per side."""

    aurora: Watermark
    saas: Watermark


@dataclass(frozen=True, slots=True)
class IncrementalPlan:
    """The keys an incremental run will diff, and the watermarks to store once it has succeeded."""

    keys: frozenset[str]
    next_marks: Watermarks


def plan_incremental(
    aurora: Source,
    saas: Source,
    marks: Watermarks,
    policy: DiffPolicy,
    carry_over: Iterable[str] = (),
) -> IncrementalPlan:
    """Read both sides' changes since ``marks``; the changed keys plus ``carry_over``."""
    keys = set(carry_over)
    horizon = policy.now - policy.grace
    next_aurora = _collect(aurora.changed_since(marks.aurora), keys, marks.aurora, horizon)
    next_saas = _collect(saas.changed_since(marks.saas), keys, marks.saas, horizon)
    return IncrementalPlan(frozenset(keys), Watermarks(aurora=next_aurora, saas=next_saas))


def _collect(changes: Iterable[Record], keys: set[str], previous: Watermark, horizon: datetime) -> Watermark:
    """Add each changed record's key; the new watermark: the latest change seen, capped at ``horizon``."""
    latest = previous.updated_at
    for record in changes:
        keys.add(record.key)
        if record.updated_at is not None and record.updated_at > latest:
            latest = record.updated_at
    capped = max(min(latest, horizon), previous.updated_at)
    return previous if capped == previous.updated_at else Watermark(updated_at=capped)


def incremental(
    mapping: SystemMapping,
    policy: DiffPolicy,
    aurora: Source,
    saas: Source,
    plan: IncrementalPlan,
    *,
    key_from: str | None = None,
    key_to: str | None = None,
    batch_size: int = 2_000,
    stats: DiffStats | None = None,
) -> Generator[Outcome, None, None]:
    """Diff only ``plan.keys``, fetching them in batches from both sources."""
    yield from diff_keys(
        mapping,
        policy,
        plan.keys,
        aurora.get_many,
        saas.get_many,
        key_from=key_from,
        key_to=key_to,
        batch_size=batch_size,
        stats=stats,
    )
