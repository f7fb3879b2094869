"""Key order for sources whose system cannot list in key order, in bounded memory.

A SaaS API lists by id or by update time, never by ``external_id``; the
merge-join needs key order. ``sort_by_key`` is a plain external merge sort:
runs of ``chunk_size`` records are sorted in memory and spilled to temporary
files, then ``heapq.merge`` streams them back, holding one batch (``SPILL_BATCH``
records) per run.
The spill files are pickles we write and read ourselves in a private
temporary directory, removed when the iterator is exhausted or closed.
"""

from __future__ import annotations

import heapq
import itertools
import pickle
import tempfile
from collections.abc import Generator, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from reconciler.model import Record


def sort_by_key(
    records: Iterable[Record], *, chunk_size: int = 100_000, spill_dir: Path | None = None
) -> Generator[Record, None, None]:
    """``records`` in ascending ``key`` order, stable for equal keys (a SaaS's duplicates keep their order).

    Input that fits in one chunk is sorted in memory and never touches disk. Closing the
    generator early removes the spill files.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {chunk_size}")
    source = iter(records)
    first = sorted(itertools.islice(source, chunk_size), key=_key)
    if len(first) < chunk_size:
        yield from first
        return
    with tempfile.TemporaryDirectory(prefix="reconcile-sort-", dir=spill_dir) as tmp:
        paths = [_spill(first, Path(tmp), 0)]
        del first
        for index in itertools.count(1):
            chunk = sorted(itertools.islice(source, chunk_size), key=_key)
            if not chunk:
                break
            paths.append(_spill(chunk, Path(tmp), index))
        files = [path.open("rb") for path in paths]
        try:
            yield from heapq.merge(*(_read(f) for f in files), key=_key)
        finally:
            for f in files:
                f.close()


def _key(record: Record) -> str:
    return record.key


#: Records per pickle call in a spill file: one call per record costs more than the sort itself, one per
#: run would hold the whole run again on read-back (an unpickler memoises everything it loads).
SPILL_BATCH = 1_000


def _spill(chunk: list[Record], directory: Path, index: int) -> Path:
    path = directory / f"run-{index:06d}.pickle"
    with path.open("wb") as f:
        for start in range(0, len(chunk), SPILL_BATCH):
            pickle.dump(chunk[start : start + SPILL_BATCH], f, protocol=pickle.HIGHEST_PROTOCOL)
    return path


def _read(f: BinaryIO) -> Iterator[Record]:
    while True:
        try:
            batch = pickle.load(f)
        except EOFError:
            return
        if not isinstance(batch, list) or not all(isinstance(r, Record) for r in batch):
            raise TypeError(f"{f.name}: spill file holds a {type(batch).__name__}, not a list of Records")
        yield from batch
