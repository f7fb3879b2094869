"""A source over records held in memory: for unit tests, benchmarks and small fixtures.

It keeps the ``Source`` contract exactly (sorted listing, half-open ranges,
duplicates per key), so code tested against it runs unchanged on the real
backends.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Sequence

from reconciler.model import Record
from reconciler.sources.base import Watermark


class InMemorySource:
    """Records of one system, sorted once at construction (stable: duplicates keep their order)."""

    def __init__(self, system: str, records: Iterable[Record]) -> None:
        self._system = system
        self._records = sorted(records, key=lambda r: r.key)
        self._keys = [r.key for r in self._records]
        strangers = {r.system for r in self._records} - {system}
        if strangers:
            raise ValueError(f"InMemorySource({system!r}) given records of {sorted(strangers)}")

    @property
    def system(self) -> str:
        return self._system

    def iter_sorted(self, key_from: str | None = None, key_to: str | None = None) -> Iterator[Record]:
        start = 0 if key_from is None else bisect.bisect_left(self._keys, key_from)
        stop = len(self._keys) if key_to is None else bisect.bisect_left(self._keys, key_to)
        for i in range(start, stop):
            yield self._records[i]

    def changed_since(self, watermark: Watermark) -> Iterator[Record]:
        for record in self._records:
            if record.updated_at is not None and record.updated_at >= watermark.updated_at:
                yield record

    def get_many(self, keys: Sequence[str]) -> Iterator[Record]:
        for key in sorted(set(keys)):
            i = bisect.bisect_left(self._keys, key)
            while i < len(self._keys) and self._keys[i] == key:
                yield self._records[i]
                i += 1
