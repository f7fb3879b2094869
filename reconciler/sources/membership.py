"""Membership (plain REST): ``next_cursor`` paging, ``updated_since``, ``member_no`` lookups, writes.

* full sweep: ``GET /members/export?limit=5000`` (in ``member_no`` order,
  ``key_gte``/``key_lt`` for a key range), then ``cursor=<next_cursor>``;
* full listing (unordered): ``GET /members?limit=200``, then ``cursor=<next_cursor>``;
* incremental: the same with ``updated_since`` on the first page (the cursor
  carries it on);
* lookup: ``GET /members/lookup?member_nos=A,B`` (100 keys a call), or
  ``GET /members?member_no=<key>`` for a key holding a comma;
* writes: ``POST /members``, ``PUT``/``DELETE /members/<id>``. The member API
  spells statuses in lower case (``active``); Aurora's ``ACTIVE`` is sent so.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from reconciler.mapping import MEMBERSHIP
from reconciler.sources.base import SourceError, Watermark
from reconciler.sources.http import RetryPolicy, SaasHttp, floor_second, lookup_in_batches
from reconciler.sources.saas import MAX_EXPORT_LIMIT, SaasSource, checked_export_limit, key_range
from reconciler.sources.writer import WriteContext

PAGE_LIMIT = 200
LOOKUP_BATCH = 100
MAX_PAGES = 10_000_000


class MembershipSource(SaasSource):
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
        super().__init__(MEMBERSHIP, sort_chunk_size=sort_chunk_size, spill_dir=spill_dir)
        self.http = SaasHttp(client, MEMBERSHIP.system, retry)
        self.lookup_workers = lookup_workers
        self.export_limit = checked_export_limit(export_limit)

    def _pages(self, first_params: dict[str, Any], path: str = "/members") -> Iterator[Mapping[str, Any]]:
        params = first_params
        for _ in range(MAX_PAGES):
            body = self.http.request("GET", path, params=params).json()
            yield from body["members"]
            if not body.get("next_cursor"):
                return
            params = {"limit": first_params["limit"], "cursor": body["next_cursor"]}
        raise SourceError(f"membership: member listing did not end within {MAX_PAGES} pages")

    def _list_by_key(self, key_from: str | None, key_to: str | None) -> Iterator[Mapping[str, Any]]:
        return self._pages(key_range({"limit": self.export_limit}, key_from, key_to), "/members/export")

    def _list_all(self) -> Iterator[Mapping[str, Any]]:
        return self._pages({"limit": PAGE_LIMIT})

    def _list_changed(self, watermark: Watermark) -> Iterator[Mapping[str, Any]]:
        since = floor_second(watermark.updated_at).isoformat()
        return self._pages({"limit": PAGE_LIMIT, "updated_since": since})

    def _lookup(self, keys: Sequence[str]) -> Iterator[Mapping[str, Any]]:
        return lookup_in_batches(
            keys,
            self._lookup_batch,
            lambda key: list(self._pages({"limit": PAGE_LIMIT, "member_no": key})),
            batch_size=LOOKUP_BATCH,
            workers=self.lookup_workers,
        )

    def _lookup_batch(self, keys: Sequence[str]) -> list[Mapping[str, Any]]:
        params = {"member_nos": ",".join(keys)}
        found: list[Mapping[str, Any]] = self.http.request("GET", "/members/lookup", params=params).json()[
            "members"
        ]
        return found


def _outgoing(fields: Mapping[str, Any]) -> dict[str, Any]:
    body = dict(fields)
    if isinstance(body.get("status"), str):
        body["status"] = body["status"].strip().lower()
    return body


class MembershipWriter:
    def __init__(self, client: httpx.Client, *, retry: RetryPolicy | None = None) -> None:
        self.http = SaasHttp(client, MEMBERSHIP.system, retry)

    def create(self, fields: Mapping[str, Any], ctx: WriteContext) -> str:
        answer = self.http.request("POST", "/members", json=_outgoing(fields), headers=ctx.headers())
        return str(answer.json()["id"])

    def update(self, raw_id: str, fields: Mapping[str, Any], ctx: WriteContext) -> None:
        self.http.request("PUT", f"/members/{raw_id}", json=_outgoing(fields), headers=ctx.headers())

    def delete(self, raw_id: str, ctx: WriteContext) -> None:
        self.http.request("DELETE", f"/members/{raw_id}", headers=ctx.headers(), not_found_ok=True)


def source(client: httpx.Client, **options: Any) -> MembershipSource:
    return MembershipSource(client, **options)


def writer(client: httpx.Client, **options: Any) -> MembershipWriter:
    return MembershipWriter(client, **options)
