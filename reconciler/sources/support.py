"""Support desk (Zendesk-like users): full listing by cursor, incremental export, lookups, writes.

* full listing: ``GET /api/v2/users.json?page[size]=100&page[after]=...``
  (``meta.has_more``, ``meta.after_cursor``), active users only, by id;
* incremental: ``GET /api/v2/incremental/users/cursor.json?start_time=<unix>``
  then ``cursor=<after_cursor>`` until ``end_of_stream``; soft-deleted users
  come back with ``active: false`` and are skipped by ``SaasSource``;
* lookup: ``GET /api/v2/users/show_many.json?external_ids=a,b`` (100 at most);
* writes: ``POST /api/v2/users.json``, ``PUT``/``DELETE /api/v2/users/<id>.json``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from reconciler.mapping import SUPPORT
from reconciler.sources.base import SourceError, Watermark
from reconciler.sources.http import RetryPolicy, SaasHttp, batched
from reconciler.sources.saas import SaasSource
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
    ) -> None:
        super().__init__(SUPPORT, sort_chunk_size=sort_chunk_size, spill_dir=spill_dir)
        self.http = SaasHttp(client, SUPPORT.system, retry)

    def _list_all(self) -> Iterator[Mapping[str, Any]]:
        params: dict[str, Any] = {"page[size]": PAGE_SIZE}
        for _ in range(MAX_PAGES):
            body = self.http.request("GET", "/api/v2/users.json", params=params).json()
            yield from body["users"]
            meta = body.get("meta") or {}
            if not meta.get("has_more") or not meta.get("after_cursor"):
                return
            params = {"page[size]": PAGE_SIZE, "page[after]": meta["after_cursor"]}
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
        for chunk in batched(keys, PAGE_SIZE):
            params = {"external_ids": ",".join(chunk)}
            yield from self.http.request("GET", "/api/v2/users/show_many.json", params=params).json()["users"]


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
