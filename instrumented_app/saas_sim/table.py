"""``RecordTable``: the in-memory storage every model keeps its records in, with the indexes it needs.

A vendor keeps some fields unique (Zendesk's ``external_id``, Shopify's
email) and pages lists by id or by a change order; scanning every record for
each check or page would make a store of 100k records crawl. The table keeps

- records by id, in ascending id order (ids are handed out increasing, so
  insertion order is id order), for cursor pages by id;
- one case-insensitive index per unique field, for the records that
  ``unique_when`` says hold their values (Zendesk: active users only);
- optionally a second sort order (``order``), e.g. ``(updated_at, id)``,
  for pages in change order;
- optionally the link-key order (``link``): ``(link_key(value), id)``, for
  bulk exports in key order (``keyorder``) and many-key lookups.

It is not thread-safe by itself: each model calls it under its own lock.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Generic, Protocol, TypeVar

from instrumented_app.saas_sim.records import Window


class _Ordered(Protocol):
    """What a record id must support: ordering (ints and zero-padded strings do)."""

    def __lt__(self, other: Any, /) -> bool: ...


KeyT = TypeVar("KeyT", bound=_Ordered)
RecordT = TypeVar("RecordT")


def link_key(value: str | None) -> str:
    """How key-ordered listings compare a link field: trimmed, upper-cased, code point order; "" if none."""
    return "" if value is None else value.strip().upper()


class RecordTable(Generic[KeyT, RecordT]):
    def __init__(
        self,
        key: Callable[[RecordT], KeyT],
        unique: Mapping[str, Callable[[RecordT], str | None]] | None = None,
        unique_when: Callable[[RecordT], bool] = lambda _record: True,
        order: Callable[[RecordT], tuple[Any, ...]] | None = None,
        link: Callable[[RecordT], str | None] | None = None,
    ) -> None:
        self._key: Callable[[RecordT], KeyT] = key
        self._unique_fields = dict(unique or {})
        self._unique_when = unique_when
        self._order_key: Callable[[RecordT], tuple[Any, ...]] | None = order
        self._records: dict[KeyT, RecordT] = {}
        self._indexes: dict[str, dict[str, KeyT]] = {field: {} for field in self._unique_fields}
        self._order: list[tuple[Any, ...]] = []
        self._link: Callable[[RecordT], str | None] | None = link
        self._links: list[tuple[str, KeyT]] = []

    def __len__(self) -> int:
        return len(self._records)

    def __iter__(self) -> Iterator[RecordT]:
        return iter(self._records.values())

    def get(self, key: KeyT) -> RecordT | None:
        return self._records.get(key)

    def holder(self, field: str, value: str) -> RecordT | None:
        """The record holding ``value`` in the unique ``field`` (case-insensitive), if any."""
        key = self._indexes[field].get(value.casefold())
        return None if key is None else self._records[key]

    def put(self, record: RecordT) -> None:
        """Insert or replace a record (a new one must have the highest id so far)."""
        key = self._key(record)
        old = self._records.get(key)
        if old is not None:
            self._unindex(old)
        elif self._records and key < next(reversed(self._records)):
            raise ValueError(
                f"record id {key!r} is lower than the last one: ids must be handed out increasing"
            )
        self._records[key] = record
        self._index(record)

    def remove(self, key: KeyT) -> RecordT | None:
        record = self._records.pop(key, None)
        if record is not None:
            self._unindex(record)
        return record

    def clear(self) -> None:
        self._records.clear()
        for index in self._indexes.values():
            index.clear()
        self._order.clear()
        self._links.clear()

    def by_id(
        self,
        limit: int,
        after: KeyT | None = None,
        before: KeyT | None = None,
        keep: Callable[[RecordT], bool] = lambda _record: True,
    ) -> Window[RecordT]:
        """``limit`` kept records just after ``after`` (or just before ``before``), by ascending id."""
        keys = list(self._records)

        def down_from(end: int) -> Iterator[KeyT]:
            return (keys[index] for index in range(end - 1, -1, -1))

        def up_from(start: int) -> Iterator[KeyT]:
            return (keys[index] for index in range(start, len(keys)))

        if before is not None:
            page = list(reversed(self._scan(down_from(bisect.bisect_left(keys, before)), keep, limit)))
        else:
            page = self._scan(up_from(0 if after is None else bisect.bisect_right(keys, after)), keep, limit)
        if not page:
            return Window(page, has_before=False, has_after=False)
        first = bisect.bisect_left(keys, self._key(page[0]))
        last = bisect.bisect_right(keys, self._key(page[-1]))
        return Window(
            page,
            has_before=bool(self._scan(down_from(first), keep, 1)),
            has_after=bool(self._scan(up_from(last), keep, 1)),
        )

    def in_order(
        self,
        limit: int,
        after: tuple[Any, ...] | None = None,
        since: tuple[Any, ...] | None = None,
        keep: Callable[[RecordT], bool] = lambda _record: True,
    ) -> tuple[list[RecordT], bool]:
        """``limit`` kept records in the second order, past ``after`` and from ``since`` on; more to come?

        ``after`` (exclusive) and ``since`` (inclusive) compare with the start of each
        record's ``(*order(record), id)``, so ``(seq,)`` or ``(updated_at, id)`` both work.
        """
        if self._order_key is None:
            raise TypeError("this table keeps no second order")
        start = 0
        if after is not None:
            start = bisect.bisect_right(self._order, after, key=lambda entry: entry[: len(after)])
        if since is not None:
            start = max(start, bisect.bisect_left(self._order, since, key=lambda entry: entry[: len(since)]))
        order = self._order
        found = self._scan((order[index][-1] for index in range(start, len(order))), keep, limit + 1)
        return found[:limit], len(found) > limit

    def by_link(
        self,
        limit: int,
        after: tuple[str, KeyT] | None = None,
        key_gte: str | None = None,
        key_lt: str | None = None,
        keep: Callable[[RecordT], bool] = lambda _record: True,
    ) -> tuple[list[RecordT], bool]:
        """``limit`` kept records in ``(link_key, id)`` order past ``after``, keys in ``[key_gte, key_lt)``.

        Returns the page and whether more follow. O(log n + page): the index is kept sorted on write.
        """
        links = self._require_links()
        start = 0 if after is None else bisect.bisect_right(links, after)
        if key_gte is not None:
            start = max(start, bisect.bisect_left(links, (key_gte,)))
        stop = len(links) if key_lt is None else bisect.bisect_left(links, (key_lt,))
        found = self._scan((links[index][1] for index in range(start, stop)), keep, limit + 1)
        return found[:limit], len(found) > limit

    def with_links(
        self, values: Iterable[str], keep: Callable[[RecordT], bool] = lambda _record: True
    ) -> list[RecordT]:
        """Kept records whose link key equals ``link_key`` of one of ``values``, in (key, id) order."""
        links = self._require_links()
        found: list[RecordT] = []
        for wanted in sorted({link_key(value) for value in values}):
            index = bisect.bisect_left(links, (wanted,))
            while index < len(links) and links[index][0] == wanted:
                record = self._records[links[index][1]]
                if keep(record):
                    found.append(record)
                index += 1
        return found

    def _require_links(self) -> list[tuple[str, KeyT]]:
        if self._link is None:
            raise TypeError("this table keeps no link-key order")
        return self._links

    def _scan(self, keys: Iterable[KeyT], keep: Callable[[RecordT], bool], limit: int) -> list[RecordT]:
        found: list[RecordT] = []
        for key in keys:
            if len(found) >= limit:
                break
            record = self._records[key]
            if keep(record):
                found.append(record)
        return found

    def _index(self, record: RecordT) -> None:
        key = self._key(record)
        if self._unique_when(record):
            for field, value_of in self._unique_fields.items():
                value = value_of(record)
                if value:
                    self._indexes[field][value.casefold()] = key
        sort_key = self._order_key
        if sort_key is not None:
            bisect.insort(self._order, (*sort_key(record), key))
        if self._link is not None:
            bisect.insort(self._links, (link_key(self._link(record)), key))

    def _unindex(self, record: RecordT) -> None:
        key = self._key(record)
        for field, value_of in self._unique_fields.items():
            value = value_of(record)
            if value and self._indexes[field].get(value.casefold()) == key:
                del self._indexes[field][value.casefold()]
        sort_key = self._order_key
        if sort_key is not None:
            entry = (*sort_key(record), key)
            position = bisect.bisect_left(self._order, entry)
            if position < len(self._order) and self._order[position] == entry:
                del self._order[position]
        if self._link is not None:
            link_entry = (link_key(self._link(record)), key)
            position = bisect.bisect_left(self._links, link_entry)
            if position < len(self._links) and self._links[position] == link_entry:
                del self._links[position]
