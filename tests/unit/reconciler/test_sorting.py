"""External sort for sources that cannot list in key order."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reconciler.model import Record
from reconciler.sources.sorting import sort_by_key

STAMP = datetime(2026, 1, 1, tzinfo=UTC)


def _records(n: int, seed: int) -> list[Record]:
    rng = random.Random(seed)
    return [
        Record(
            system="support",
            key=f"C{rng.randrange(n // 2 + 1):06d}",
            fields={"seq": i},
            updated_at=STAMP,
            raw_id=str(i),
        )
        for i in range(n)
    ]


@pytest.mark.parametrize(("n", "chunk"), [(0, 10), (7, 10), (10, 10), (1000, 64), (1000, 1)])
def test_output_is_sorted_stable_and_complete(tmp_path: Path, n: int, chunk: int) -> None:
    records = _records(n, seed=n + chunk)
    result = list(sort_by_key(records, chunk_size=chunk, spill_dir=tmp_path))
    assert result == sorted(records, key=lambda r: r.key)  # sorted() is stable: duplicates keep input order
    assert list(tmp_path.iterdir()) == []  # spill files are gone


def test_spill_files_are_removed_when_the_reader_stops_early(tmp_path: Path) -> None:
    sorted_iter = sort_by_key(_records(500, seed=1), chunk_size=50, spill_dir=tmp_path)
    next(sorted_iter)
    assert len(list(next(tmp_path.iterdir()).iterdir())) == 10  # ten spilled runs while reading
    sorted_iter.close()
    assert list(tmp_path.iterdir()) == []


def test_chunk_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="chunk_size must be at least 1, got 0"):
        list(sort_by_key([], chunk_size=0))
