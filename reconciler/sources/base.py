"""The one interface every source implements (Aurora, support, commerce, membership, ...).

Shaped like Powertools idempotency's ``persistence/base.py``: the diff engine
and the run modes talk only to this protocol, and each backend lives in its
own module beside it. A source turns its rows or API objects into
``Record`` through ``reconciler.mapping`` (``aurora_record`` or
``SystemMapping.record``), so keys are canonical and timestamps UTC.

The contract the engine relies on:

* ``iter_sorted`` yields records in ascending ``Record.key`` (code point
  order; in PostgreSQL ``ORDER BY upper(cust_no) COLLATE "C"``), limited to
  ``[key_from, key_to)`` when given. A SaaS API rarely lists in key order, so
  a SaaS source sorts out of memory (spill to a temporary table or file and
  read back sorted), never by holding the whole listing.
* ``changed_since`` yields records changed at or after ``watermark`` (any
  order), including deletions the system reports; the caller takes the
  greatest ``updated_at`` it sees as the next watermark.
* ``get_many`` yields the current records of the given canonical keys (any
  order; several per key when a SaaS holds duplicates; none for absent keys).

Memory stays bounded: all three are iterators, never lists of everything.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from reconciler.model import Record


class SourceError(RuntimeError):
    """A source could not read its system (after its own retries); the run records it and exits 2."""


@dataclass(frozen=True, slots=True)
class Watermark:
    """Where the last incremental run stopped on one side.

    ``updated_at`` is the greatest change time seen; ``cursor`` is an opaque
    resume token for systems that hand one out (Zendesk's incremental export).
    """

    updated_at: datetime
    cursor: str | None = None

    def __post_init__(self) -> None:
        if self.updated_at.utcoffset() is None:
            raise ValueError(f"watermark updated_at must be timezone-aware, got {self.updated_at!r}")


@runtime_checkable
class Source(Protocol):
    """Reads one system's customer records."""

    @property
    def system(self) -> str:
        """``"aurora"`` or the SaaS mapping's system name."""
        ...

    def iter_sorted(self, key_from: str | None = None, key_to: str | None = None) -> Iterator[Record]:
        """Every record in ``[key_from, key_to)`` in ascending key order (a full sweep)."""
        ...

    def changed_since(self, watermark: Watermark) -> Iterator[Record]:
        """Records changed at or after ``watermark`` (an incremental run)."""
        ...

    def get_many(self, keys: Sequence[str]) -> Iterator[Record]:
        """The current records of ``keys`` (canonical keys)."""
        ...
