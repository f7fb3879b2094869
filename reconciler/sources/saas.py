"""What every SaaS source shares; a backend implements three API calls.

Like Powertools' ``BasePersistenceLayer`` (an ABC that holds the common
logic and leaves ``_get_record``/``_put_record``/... to DynamoDB or Redis),
``SaasSource`` does the parts that would otherwise be copied into each SaaS
source: raw objects to ``Record`` through the mapping, skipping
soft-deleted objects, clipping to a key range, and sorting into key order in
bounded memory (``sorting.sort_by_key``). A backend (support, commerce,
membership, over an ``httpx.Client``) implements:

* ``_list_all()``: every object, in whatever order the API pages them;
* ``_list_changed(watermark)``: objects changed at or after the watermark
  (Zendesk's incremental export, Shopify's ``updated_at_min``);
* ``_lookup(keys)``: the objects whose link field is one of ``keys``;

and, when its API can export in link-key order (the simulators' bulk
export, ``instrumented_app.saas_sim.keyorder``), ``_list_by_key(key_from,
key_to)``: then a full sweep streams that export straight into the
merge-join, with no sort and no spill (the order is checked as it passes:
``diff.SourceOrderError``), and a key range is read on the server side.

What a SaaS cannot tell us, this cannot either: a hard delete (commerce,
membership) or a soft delete that clears the link key (Zendesk) leaves
nothing in ``_list_changed``, so an incremental run does not see the
resulting ``missing_in_saas``; the full sweep does. (A soft delete that keeps
the key, as the support simulator's does, is passed on as a change.)
Orphans without any link key (key ``""``) cannot be looked up by key either:
only a full sweep judges them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from reconciler.diff import in_key_range
from reconciler.mapping import SystemMapping
from reconciler.model import Record
from reconciler.sources.base import Watermark
from reconciler.sources.prefetch import prefetch
from reconciler.sources.sorting import sort_by_key


class SaasSource(ABC):
    """A ``Source`` for one SaaS system, given its three listing primitives."""

    def __init__(
        self,
        mapping: SystemMapping,
        *,
        sort_chunk_size: int = 100_000,
        spill_dir: Path | None = None,
        prefetch_items: int = 5_000,
    ):
        self.mapping = mapping
        self._prefetch_items = prefetch_items
        self._sort_chunk_size = sort_chunk_size
        self._spill_dir = spill_dir

    @property
    def system(self) -> str:
        return self.mapping.system

    def iter_sorted(self, key_from: str | None = None, key_to: str | None = None) -> Iterator[Record]:
        # The listing runs ahead in a thread (bounded), so its HTTP waits overlap the diff's work.
        # Objects become records in that thread too, beside the HTTP reads.
        ordered = self._list_by_key(key_from, key_to)
        listing = self._list_all() if ordered is None else ordered
        listed = prefetch(self._records(listing), self._prefetch_items)
        wanted = (r for r in listed if in_key_range(r.key, key_from, key_to))
        if ordered is not None:
            return wanted
        return sort_by_key(wanted, chunk_size=self._sort_chunk_size, spill_dir=self._spill_dir)

    def changed_since(self, watermark: Watermark) -> Iterator[Record]:
        # Soft-deleted objects that still name their key count as changes too: the key's copy may
        # be gone, which only a look at the key (``get_many``) can tell.
        for obj in self._list_changed(watermark):
            record = self.mapping.record(obj)
            if record.key or self.mapping.is_live(obj):
                yield record

    def get_many(self, keys: Sequence[str]) -> Iterator[Record]:
        wanted = set(keys)
        keys = [k for k in keys if k]  # "" (no link key) cannot be looked up; only a full sweep sees those
        # The API matches its own way (Zendesk: case-insensitive); keep exactly the keys asked for.
        return (r for r in self._records(self._lookup(keys)) if r.key in wanted)

    def _records(self, objects: Iterable[Mapping[str, Any]]) -> Iterator[Record]:
        for obj in objects:
            if self.mapping.is_live(obj):
                yield self.mapping.record(obj)

    def _list_by_key(self, key_from: str | None, key_to: str | None) -> Iterable[Mapping[str, Any]] | None:
        """Objects in ascending link-key order (``canonical_key``), at least those in ``[key_from, key_to)``;
        None when the API cannot list so (the sweep then sorts ``_list_all`` itself)."""
        return None

    @abstractmethod
    def _list_all(self) -> Iterable[Mapping[str, Any]]:
        """Every object, any order, paged lazily."""

    @abstractmethod
    def _list_changed(self, watermark: Watermark) -> Iterable[Mapping[str, Any]]:
        """Objects changed at or after ``watermark``, paged lazily."""

    @abstractmethod
    def _lookup(self, keys: Sequence[str]) -> Iterable[Mapping[str, Any]]:
        """Objects whose link field is one of ``keys`` (canonical keys)."""


def key_range(params: dict[str, Any], key_from: str | None, key_to: str | None) -> dict[str, Any]:
    """``params`` with the bulk export's key range (``key_gte`` inclusive, ``key_lt`` exclusive) added."""
    if key_from is not None:
        params["key_gte"] = key_from
    if key_to is not None:
        params["key_lt"] = key_to
    return params


#: The simulators' bulk export serves pages of up to 5,000 (``saas_sim.keyorder.MAX_EXPORT_LIMIT``).
MAX_EXPORT_LIMIT = 5_000


def checked_export_limit(limit: int) -> int:
    """A bulk export page size the APIs accept (1 to ``MAX_EXPORT_LIMIT``), or a ``ValueError`` naming it."""
    if not 1 <= limit <= MAX_EXPORT_LIMIT:
        raise ValueError(f"export_limit: must be between 1 and {MAX_EXPORT_LIMIT}, got {limit}")
    return limit
