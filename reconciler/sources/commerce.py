"""Commerce (Shopify-like customers): ``Link``-header paging, ``updated_at_min``, search, writes.

* full sweep: ``GET /admin/api/<ver>/customers/export.json?limit=5000`` (in
  ``multipass_identifier`` order, ``key_gte``/``key_lt`` for a key range), then
  the ``rel="next"`` URL of the ``Link`` header;
* full listing (unordered): ``GET .../customers.json?limit=250``, then the
  ``rel="next"`` URL of the ``Link`` header (its ``page_info`` carries the filters);
* incremental: the same with ``updated_at_min`` on the first page;
* lookup: ``GET .../customers/lookup.json?multipass_identifiers=A,B`` (100 a
  call), or ``.../customers/search.json?query=multipass_identifier:<key>`` for a
  key holding a comma;
* writes: ``POST .../customers.json``, ``PUT``/``DELETE .../customers/<id>.json``.

The leaky bucket answers 429 with ``Retry-After``; ``SaasHttp`` waits it out.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from reconciler.mapping import COMMERCE
from reconciler.sources.base import SourceError, Watermark
from reconciler.sources.http import RetryPolicy, SaasHttp, floor_second, lookup_in_batches
from reconciler.sources.saas import MAX_EXPORT_LIMIT, SaasSource, checked_export_limit, key_range
from reconciler.sources.writer import WriteContext

API_VERSION = "2025-01"
PREFIX = f"/admin/api/{API_VERSION}"
PAGE_LIMIT = 250
LOOKUP_BATCH = 100
MAX_PAGES = 10_000_000


class CommerceSource(SaasSource):
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
        super().__init__(COMMERCE, sort_chunk_size=sort_chunk_size, spill_dir=spill_dir)
        self.http = SaasHttp(client, COMMERCE.system, retry)
        self.lookup_workers = lookup_workers
        self.export_limit = checked_export_limit(export_limit)

    def _pages(
        self, first_params: dict[str, Any], path: str = "customers.json"
    ) -> Iterator[Mapping[str, Any]]:
        url: str = f"{PREFIX}/{path}"
        params: dict[str, Any] | None = first_params
        for _ in range(MAX_PAGES):
            response = self.http.request("GET", url, params=params)
            yield from response.json()["customers"]
            following = response.links.get("next", {}).get("url")
            if not following:
                return
            url, params = following, None  # the next URL carries limit and page_info
        raise SourceError(f"commerce: customer listing did not end within {MAX_PAGES} pages")

    def _list_by_key(self, key_from: str | None, key_to: str | None) -> Iterator[Mapping[str, Any]]:
        return self._pages(key_range({"limit": self.export_limit}, key_from, key_to), "customers/export.json")

    def _list_all(self) -> Iterator[Mapping[str, Any]]:
        return self._pages({"limit": PAGE_LIMIT})

    def _list_changed(self, watermark: Watermark) -> Iterator[Mapping[str, Any]]:
        since = floor_second(watermark.updated_at).isoformat()
        return self._pages({"limit": PAGE_LIMIT, "updated_at_min": since})

    def _lookup(self, keys: Sequence[str]) -> Iterator[Mapping[str, Any]]:
        return lookup_in_batches(
            keys, self._lookup_batch, self._search, batch_size=LOOKUP_BATCH, workers=self.lookup_workers
        )

    def _lookup_batch(self, keys: Sequence[str]) -> list[Mapping[str, Any]]:
        params = {"multipass_identifiers": ",".join(keys)}
        found: list[Mapping[str, Any]] = self.http.request(
            "GET", f"{PREFIX}/customers/lookup.json", params=params
        ).json()["customers"]
        return found

    def _search(self, key: str) -> list[Mapping[str, Any]]:
        params = {"query": f"multipass_identifier:{key}"}
        found: list[Mapping[str, Any]] = self.http.request(
            "GET", f"{PREFIX}/customers/search.json", params=params
        ).json()["customers"]
        return found


class CommerceWriter:
    def __init__(self, client: httpx.Client, *, retry: RetryPolicy | None = None) -> None:
        self.http = SaasHttp(client, COMMERCE.system, retry)

    def create(self, fields: Mapping[str, Any], ctx: WriteContext) -> str:
        body = {"customer": dict(fields)}
        answer = self.http.request("POST", f"{PREFIX}/customers.json", json=body, headers=ctx.headers())
        return str(answer.json()["customer"]["id"])

    def update(self, raw_id: str, fields: Mapping[str, Any], ctx: WriteContext) -> None:
        body = {"customer": dict(fields)}
        self.http.request("PUT", f"{PREFIX}/customers/{raw_id}.json", json=body, headers=ctx.headers())

    def delete(self, raw_id: str, ctx: WriteContext) -> None:
        path = f"{PREFIX}/customers/{raw_id}.json"
        self.http.request("DELETE", path, headers=ctx.headers(), not_found_ok=True)


def source(client: httpx.Client, **options: Any) -> CommerceSource:
    return CommerceSource(client, **options)


def writer(client: httpx.Client, **options: Any) -> CommerceWriter:
    return CommerceWriter(client, **options)
