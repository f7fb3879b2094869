"""Benchmark: the reconciler's diff engine on synthetic customers, against a naive dict diff.

    .venv/bin/python bench/bench_diff_engine.py [--rows 1000000] [--drift 0.001] [--system support]

Builds Aurora rows and one SaaS system's objects in key order, through the
constructors real sources use (``aurora_record``, ``SystemMapping.record``),
with ``--drift`` of the customers drifted evenly across the five kinds and
``--national-phones`` of Aurora's phones in national form (each costs a
phonenumbers parse). The records are held in lists, as in-memory sorted
iterators. Prints wall and CPU seconds (CPU is steadier when the machine is
shared) for:

* building the records (what a source would cost; not part of the rates),
* the streaming merge-join (``diff_sorted``), in rows per second,
* a naive baseline in the same run: both sides into dicts, then every key
  compared with the same per-key comparer, and the ratio of the two,
* an incremental run (``diff_keys``) over ``--changes`` keys spread over the table,
* peak memory each of the two allocates beyond its input (tracemalloc, on
  ``--mem-rows`` customers, since tracing slows allocation badly).

Nothing here asserts a speed; the figures are for reading.
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from reconciler.compare import DiffPolicy, KeyComparer
from reconciler.diff import diff_keys, diff_sorted
from reconciler.mapping import AURORA, SystemMapping, aurora_record, mapping_for
from reconciler.model import DiffStats, DriftKind, Record
from reconciler.sources.memory import InMemorySource

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
SETTLED = NOW - timedelta(days=2)
KINDS = list(DriftKind)
T = TypeVar("T")


def drift_of(i: int, every: int) -> DriftKind | None:
    """Which drift customer ``i`` carries (``None`` for most), spread evenly over the kinds."""
    if every <= 0 or i % every != every // 2:
        return None
    return KINDS[(i // every) % len(KINDS)]


def _row(i: int, national_every: int) -> dict[str, object]:
    # Every ``national_every``-th row stores its phone in national form, which costs a phonenumbers parse.
    if national_every and i % national_every == 0:
        phone = f"090-{i // 10000 % 10000:04d}-{i % 10000:04d}"
    else:
        phone = f"+8190{i // 10000 % 10000:04d}{i % 10000:04d}"
    return {
        "cust_no": f"C{i:07d}",
        "family_name": "Yamada",
        "given_name": f"Taro{i}",
        "email": f"taro{i}@example.com",
        "phone": phone,
        "status": "ACTIVE",
        "updated_at": SETTLED,
    }


def aurora_side(rows: int, every: int, national_every: int) -> Iterator[Record]:
    for i in range(rows):
        if drift_of(i, every) is DriftKind.ORPHAN_IN_SAAS:
            continue  # the SaaS keeps a customer Aurora no longer has
        yield aurora_record(_row(i, national_every))


def saas_side(mapping: SystemMapping, rows: int, every: int) -> Iterator[Record]:
    stamp = SETTLED.isoformat()
    for i in range(rows):
        kind = drift_of(i, every)
        if kind is DriftKind.MISSING_IN_SAAS:
            continue
        obj = mapping.project(_row(i, 0))
        obj["id"] = i + 1
        obj["updated_at"] = stamp
        if kind is DriftKind.FIELD_MISMATCH:
            obj["email"] = f"typo{i}@example.org"
        elif kind is DriftKind.STALE:
            obj["updated_at"] = (SETTLED - timedelta(days=1)).isoformat()
        yield mapping.record(obj)
        if kind is DriftKind.DUPLICATE_IN_SAAS:
            yield mapping.record({**obj, "id": 10_000_000 + i})


def streaming(
    mapping: SystemMapping, policy: DiffPolicy, aurora: list[Record], saas: list[Record]
) -> DiffStats:
    """The engine as a full sweep runs it: two sorted iterators in, outcomes streamed out."""
    stats = DiffStats()
    for _ in diff_sorted(mapping, policy, iter(aurora), iter(saas), stats=stats):
        pass
    return stats


def naive(mapping: SystemMapping, policy: DiffPolicy, aurora: list[Record], saas: list[Record]) -> int:
    """What one writes first: both sides into dicts, then every key looked up (same per-key comparer)."""
    by_key = {r.key: r for r in aurora}
    saas_by_key: dict[str, list[Record]] = {}
    for record in saas:
        saas_by_key.setdefault(record.key, []).append(record)
    compare = KeyComparer(mapping, policy).compare
    found = 0
    for key in sorted(by_key.keys() | saas_by_key.keys()):
        found += len(compare(key, by_key.get(key), saas_by_key.get(key, [])))
    return found


def timed(label: str, fn: Callable[[], T]) -> tuple[float, T]:
    """Run ``fn``; print wall and CPU seconds; return CPU seconds (steadier on a shared machine)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"  {label:<40} {wall:7.2f} s wall {cpu:7.2f} s CPU")
    return cpu, result


def peak_kib(fn: Callable[[], object]) -> float:
    """Peak memory allocated while ``fn`` runs (what already existed is not counted)."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 1024
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--drift", type=float, default=0.001, help="fraction of customers drifted")
    parser.add_argument("--system", default="support")
    parser.add_argument(
        "--national-phones", type=float, default=0.1, help="fraction of Aurora phones not E.164"
    )
    parser.add_argument("--mem-rows", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=10_000, help="keys diffed by the incremental run")
    args = parser.parse_args()

    mapping = mapping_for(args.system)
    policy = DiffPolicy(now=NOW)
    every = round(1 / args.drift) if args.drift > 0 else 0
    national = round(1 / args.national_phones) if args.national_phones > 0 else 0
    print(
        f"diff engine: {args.rows:,} customers, Aurora vs {mapping.system}, drift 1 in {every:,}, "
        f"national-format phones 1 in {national:,}"
    )

    # The inputs sit in memory only because this is a benchmark: a real source streams them. Keep the
    # cyclic GC from re-scanning millions of long-lived input objects (gc.freeze), which a streaming
    # run would never hold, so the figures measure the diff and not the test harness.
    gc.disable()
    _, (aurora, saas) = timed(
        "build sorted records (both sides)",
        lambda: (list(aurora_side(args.rows, every, national)), list(saas_side(mapping, args.rows, every))),
    )
    gc.freeze()
    gc.enable()
    stream_s, stats = timed("streaming merge-join", lambda: streaming(mapping, policy, aurora, saas))
    naive_s, naive_found = timed("naive dict diff", lambda: naive(mapping, policy, aurora, saas))

    found = sum(stats.findings.values())
    kinds = ", ".join(f"{k.value} {n}" for k, n in sorted(stats.findings.items()))
    print(f"  findings: {found:,} ({kinds}); naive found {naive_found:,}")
    rows = stats.aurora_rows + stats.saas_rows
    print(f"  rows/s (CPU) over {rows:,} rows: streaming {rows / stream_s:,.0f}, naive {rows / naive_s:,.0f}")
    print(f"  ratio naive/streaming CPU time: {naive_s / stream_s:.2f}x")

    changed = [f"C{i:07d}" for i in range(0, args.rows, max(1, args.rows // args.changes))]
    aurora_src, saas_src = InMemorySource(AURORA, aurora), InMemorySource(mapping.system, saas)
    incr_s, incr_found = timed(
        f"incremental, {len(changed):,} changed keys",
        lambda: sum(1 for _ in diff_keys(mapping, policy, changed, aurora_src.get_many, saas_src.get_many)),
    )
    print(f"  incremental: {len(changed) / incr_s:,.0f} keys/s (CPU), {incr_found} findings among them")

    mem = min(args.mem_rows, args.rows)
    a_part, s_part = aurora[:mem], [r for r in saas[: mem + mem // 100] if r.key < f"C{mem:07d}"]
    stream_kib = peak_kib(lambda: streaming(mapping, policy, a_part, s_part))
    naive_kib = peak_kib(lambda: naive(mapping, policy, a_part, s_part))
    print(f"  peak memory beyond the input, {mem:,} customers (tracemalloc):")
    print(f"    streaming {stream_kib:,.0f} KiB, naive {naive_kib:,.0f} KiB ({naive_kib / stream_kib:,.0f}x)")


if __name__ == "__main__":
    main()
