"""Support desk (Zendesk-like users): full listing by cursor, incremental export, lookups, writes.

* full sweep: ``GET /api/v2/users/export.json?page[size]=5000`` (active users in
  ``external_id`` order, ``key_gte``/``key_lt`` for a key range), then ``page[after]``;
* full listing (unordered): ``GET /api/v2/users.json?page[size]=100&page[after]=...``
  (``meta.has_more``, ``meta.after_cursor``), active users only, by id;
* incremental: ``GET /api/v2/incremental/users/cursor.json?start_time=<unix>``
  then ``cursor=<after_cursor>`` until ``end_of_stream``; soft-deleted users
  come back with ``active: false`` and are skipped by ``SaasSource``;
* lookup: ``GET /api/v2/users/show_many.json?external_ids=a,b`` (100 at most), or
  ``GET /api/v2/users/search.json?external_id=<key>`` for a key holding a comma;
* writes: ``POST /api/v2/users.json``, ``PUT``/``DELETE /api/v2/users/<id>.json``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from reconciler.mapping import SUPPORT
from reconciler.sources.base import SourceError, Watermark
from reconciler.sources.http import RetryPolicy, SaasHttp, lookup_in_batches
from reconciler.sources.saas import MAX_EXPORT_LIMIT, SaasSource, checked_export_limit, key_range
from reconciler.sources.writer import WriteContext

PAGE_SIZE = 100
EXPORT_PAGE = 1000
MAX_PAGES = 10_000_000  # a bound on every paging loop: far above any real account


class SupportSource(SaasSource):
    def __init__(
        self,
        client: httpx.Client,
        *,
        retry: RetryPolicy | None = None,
        sort_chunk_size: int = 100_000,
        spill_dir: Path | None = None,
        lookup_workers: int = 1,
        export_limit: int = MAX_EXPORT_LIMIT,
    ) -> None:
        super().__init__(SUPPORT, sort_chunk_size=sort_chunk_size, spill_dir=spill_dir)
        self.http = SaasHttp(client, SUPPORT.system, retry)
        self.lookup_workers = lookup_workers
        self.export_limit = checked_export_limit(export_limit)

    def _list_by_key(self, key_from: str | None, key_to: str | None) -> Iterator[Mapping[str, Any]]:
        first = key_range({"page[size]": self.export_limit}, key_from, key_to)
        return self._cursor_pages("/api/v2/users/export.json", first)

    def _list_all(self) -> Iterator[Mapping[str, Any]]:
        return self._cursor_pages("/api/v2/users.json", {"page[size]": PAGE_SIZE})

    def _cursor_pages(self, path: str, first: dict[str, Any]) -> Iterator[Mapping[str, Any]]:
        params = first
        for _ in range(MAX_PAGES):
            body = self.http.request("GET", path, params=params).json()
            yield from body["users"]
            meta = body.get("meta") or {}
            if not meta.get("has_more") or not meta.get("after_cursor"):
                return
            params = {"page[size]": first["page[size]"], "page[after]": meta["after_cursor"]}
        raise SourceError(f"support: user listing did not end within {MAX_PAGES} pages")

    def _list_changed(self, watermark: Watermark) -> Iterator[Mapping[str, Any]]:
        params: dict[str, Any] = {
            "start_time": int(watermark.updated_at.timestamp()),
            "per_page": EXPORT_PAGE,
        }
        for _ in range(MAX_PAGES):
            body = self.http.request("GET", "/api/v2/incremental/users/cursor.json", params=params).json()
            yield from body["users"]
            if body.get("end_of_stream") or not body.get("after_cursor"):
                return
            params = {"cursor": body["after_cursor"], "per_page": EXPORT_PAGE}
        raise SourceError(f"support: incremental export did not end within {MAX_PAGES} pages")

    def _lookup(self, keys: Sequence[str]) -> Iterator[Mapping[str, Any]]:
        return lookup_in_batches(
            keys, self._show_many, self._search, batch_size=PAGE_SIZE, workers=self.lookup_workers
        )

    def _show_many(self, keys: Sequence[str]) -> list[Mapping[str, Any]]:
        params = {"external_ids": ",".join(keys)}
        found: list[Mapping[str, Any]] = self.http.request(
            "GET", "/api/v2/users/show_many.json", params=params
        ).json()["users"]
        return found

    def _search(self, key: str) -> list[Mapping[str, Any]]:
        params = {"external_id": key}
        found: list[Mapping[str, Any]] = self.http.request(
            "GET", "/api/v2/users/search.json", params=params
        ).json()["users"]
        return found


class SupportWriter:
    def __init__(self, client: httpx.Client, *, retry: RetryPolicy | None = None) -> None:
        self.http = SaasHttp(client, SUPPORT.system, retry)

    def create(self, fields: Mapping[str, Any], ctx: WriteContext) -> str:
        body = {"user": dict(fields)}
        answer = self.http.request("POST", "/api/v2/users.json", json=body, headers=ctx.headers())
        return str(answer.json()["user"]["id"])

    def update(self, raw_id: str, fields: Mapping[str, Any], ctx: WriteContext) -> None:
        body = {"user": dict(fields)}
        self.http.request("PUT", f"/api/v2/users/{raw_id}.json", json=body, headers=ctx.headers())

    def delete(self, raw_id: str, ctx: WriteContext) -> None:
        self.http.request("DELETE", f"/api/v2/users/{raw_id}.json", headers=ctx.headers(), not_found_ok=True)


def source(client: httpx.Client, **options: Any) -> SupportSource:
    return SupportSource(client, **options)


def writer(client: httpx.Client, **options: Any) -> SupportWriter:
    return SupportWriter(client, **options)
