"""The diff engine: a streaming merge-join of Aurora against one SaaS system.

``diff_sorted`` walks two iterators sorted by canonical key, holding one
Aurora record and one group of SaaS records at a time, so memory stays flat
however many customers there are. A key range (``key_from`` inclusive,
``key_to`` exclusive) makes the same function the body of one item of a Step
Functions Distributed Map (DESIGN.md, "Beyond one machine"); ``None`` means
unbounded. ``diff_keys`` is the incremental path: the same per-key judgement
(``compare.KeyComparer``) over keys known to have changed, fetched in batches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import NamedTuple

from reconciler.compare import DiffPolicy, KeyComparer
from reconciler.mapping import AURORA, SystemMapping
from reconciler.model import DiffStats, Outcome, Record

#: At most this many SaaS records of one key are kept (the rest are only counted).
MAX_GROUP = 50

GetMany = Callable[[Sequence[str]], Iterable[Record]]


class SourceOrderError(ValueError):
    """A source broke the contract the merge-join relies on (sorted, unique Aurora keys)."""


def diff_sorted(
    mapping: SystemMapping,
    policy: DiffPolicy,
    aurora: Iterable[Record],
    saas: Iterable[Record],
    *,
    key_from: str | None = None,
    key_to: str | None = None,
    stats: DiffStats | None = None,
) -> Iterator[Outcome]:
    """Findings and deferrals for every key in ``[key_from, key_to)``, in key order.

    Both inputs must be sorted by ``Record.key`` (code point order); Aurora's
    keys must be unique. Records outside the range are skipped, so a source
    may over-read. Raises ``SourceOrderError`` on out-of-order input.
    """
    stats = stats if stats is not None else DiffStats()
    comparer = KeyComparer(mapping, policy)
    compare = comparer.compare
    aurora_it = _in_range(aurora, AURORA, key_from, key_to, unique=True)
    groups = _grouped(_in_range(saas, mapping.system, key_from, key_to, unique=False))
    a = next(aurora_it, None)
    g = next(groups, None)
    while a is not None or g is not None:
        if g is None or (a is not None and a.key < g.key):
            assert a is not None
            outcomes = compare(a.key, a, ())
            stats.aurora_rows += 1
            a = next(aurora_it, None)
        elif a is None or g.key < a.key:
            outcomes = compare(g.key, None, g.records, g.total)
            stats.saas_rows += g.total
            g = next(groups, None)
        else:
            outcomes = compare(a.key, a, g.records, g.total)
            stats.aurora_rows += 1
            stats.saas_rows += g.total
            a = next(aurora_it, None)
            g = next(groups, None)
        stats.keys += 1
        for outcome in outcomes:
            stats.count(outcome)
            yield outcome


def diff_keys(
    mapping: SystemMapping,
    policy: DiffPolicy,
    keys: Iterable[str],
    aurora_get_many: GetMany,
    saas_get_many: GetMany,
    *,
    key_from: str | None = None,
    key_to: str | None = None,
    batch_size: int = 500,
    stats: DiffStats | None = None,
) -> Iterator[Outcome]:
    """Findings and deferrals for just ``keys`` (canonical), in key order.

    The incremental run: ``keys`` are those changed on either side since the
    last watermarks; each batch is fetched with the sources' ``get_many``.
    On the same data it yields exactly what ``diff_sorted`` yields for those keys.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    stats = stats if stats is not None else DiffStats()
    compare = KeyComparer(mapping, policy).compare
    wanted = sorted({k for k in keys if in_key_range(k, key_from, key_to)})
    batches = iter(wanted)
    while batch := list(islice(batches, batch_size)):
        # Each batch is read whole first (bounded by batch_size), so a source's connection is released
        # before anything below can raise.
        aurora_by_key: dict[str, Record] = {}
        for record in list(aurora_get_many(batch)):
            if record.key in aurora_by_key:
                raise SourceOrderError(f"aurora: key {record.key!r} returned twice")
            aurora_by_key[record.key] = record
        saas_by_key: dict[str, list[Record]] = {}
        for record in list(saas_get_many(batch)):
            saas_by_key.setdefault(record.key, []).append(record)
        for key in batch:
            a = aurora_by_key.get(key)
            group = saas_by_key.get(key, [])
            stats.aurora_rows += a is not None
            stats.saas_rows += len(group)
            stats.keys += 1
            for outcome in compare(key, a, group[:MAX_GROUP], len(group)):
                stats.count(outcome)
                yield outcome


def in_key_range(key: str, key_from: str | None, key_to: str | None) -> bool:
    """Whether ``key`` lies in ``[key_from, key_to)``; ``None`` leaves that end open."""
    return (key_from is None or key >= key_from) and (key_to is None or key < key_to)


def _in_range(
    records: Iterable[Record], system: str, key_from: str | None, key_to: str | None, *, unique: bool
) -> Iterator[Record]:
    """The records of ``[key_from, key_to)``, checking order and system as they pass."""
    previous: str | None = None
    for record in records:
        key = record.key
        if previous is not None and (key < previous or (unique and key == previous)):
            raise SourceOrderError(
                f"{system}: key {key!r} after {previous!r}; sources must yield keys in ascending order"
                + (" without repeats" if unique else "")
            )
        if record.system != system:
            raise SourceOrderError(f"expected {system} records, got one from {record.system!r} (key {key!r})")
        previous = key
        if key_from is not None and key < key_from:
            continue
        if key_to is not None and key >= key_to:
            return
        yield record


class _Group(NamedTuple):
    """The SaaS records of one key: the first ``MAX_GROUP`` of them, and how many there were."""

    key: str
    records: list[Record]
    total: int


def _grouped(records: Iterator[Record]) -> Iterator[_Group]:
    """One ``_Group`` per run of equal keys."""
    current: str | None = None
    group: list[Record] = []
    total = 0
    for record in records:
        if record.key != current:
            if total:
                assert current is not None
                yield _Group(current, group, total)
            current, group, total = record.key, [record], 1
        else:
            total += 1
            if total <= MAX_GROUP:
                group.append(record)
    if total:
        assert current is not None
        yield _Group(current, group, total)
