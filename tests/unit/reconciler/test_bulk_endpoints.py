"""The simulators' bulk export (link-key order, keyset cursor, key range) and many-key lookups, over HTTP.

These are what a sweep and an incremental run read through; the reconciler's
sources over them are tested in ``test_live_sources``.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .world import SYSTEMS, copy_for, load, row

#: system -> (export path, page-size parameter, cursor parameter, lookup path, lookup parameter, items)
API: dict[str, tuple[str, str, str, str, str, str]] = {
    "membership": ("/members/export", "limit", "cursor", "/members/lookup", "member_nos", "members"),
    "commerce": (
        "/admin/api/2025-01/customers/export.json",
        "limit",
        "page_info",
        "/admin/api/2025-01/customers/lookup.json",
        "multipass_identifiers",
        "customers",
    ),
    "support": (
        "/api/v2/users/export.json",
        "page[size]",
        "page[after]",
        "/api/v2/users/show_many.json",
        "external_ids",
        "users",
    ),
}
LINK = {"membership": "member_no", "commerce": "multipass_identifier", "support": "external_id"}


def _next(system: str, answer: httpx.Response) -> dict[str, Any] | str | None:
    """The next page's query (membership, support) or URL (commerce's Link header)."""
    body = answer.json()
    if system == "membership":
        return {"cursor": body["next_cursor"]} if body["next_cursor"] else None
    if system == "support":
        return {"page[after]": body["meta"]["after_cursor"]} if body["meta"]["has_more"] else None
    following = answer.links.get("next", {}).get("url")
    return str(following) if following else None


def _walk(client: httpx.Client, base: str, system: str, first: dict[str, Any]) -> tuple[list[str], int]:
    path, size, *_, items = API[system]
    keys: list[str] = []
    pages = 0
    url: str = base + path
    params: dict[str, Any] | None = first
    while True:
        answer = client.get(url, params=params)
        assert answer.status_code == 200, answer.text
        pages += 1
        keys += [item[LINK[system]] for item in answer.json()[items]]
        following = _next(system, answer)
        if following is None:
            return keys, pages
        if isinstance(following, str):
            url, params = following, None
        else:
            params = {size: first[size], **following}


@pytest.mark.parametrize("system", SYSTEMS)
def test_export_walks_link_key_order_case_blind_across_pages_and_within_a_range(
    system: str, saas_urls: dict[str, str], admin: httpx.Client
) -> None:
    # Loaded against key order (ids run the other way), one key stored in lower case.
    records = [copy_for(system, row(n, cust_no=f"c{n:07d}" if n == 4 else f"C{n:07d}")) for n in range(9)]
    load(admin, saas_urls[system], list(reversed(records)))
    size = API[system][1]
    keys, pages = _walk(admin, saas_urls[system], system, {size: 2})
    assert [k.upper() for k in keys] == [f"C{n:07d}" for n in range(9)] and pages == 5
    ranged, _ = _walk(
        admin, saas_urls[system], system, {size: 2, "key_gte": "c0000003", "key_lt": "C0000007"}
    )
    assert [k.upper() for k in ranged] == [f"C{n:07d}" for n in range(3, 7)]


@pytest.mark.parametrize("system", SYSTEMS)
@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"key_gte": "C5", "key_lt": "C1"}, "key_lt"),
        ({"key_gte": "C" * 300}, "key_gte"),
        ({"SIZE": 5001}, "SIZE"),
        ({"CURSOR": "not-a-cursor"}, "CURSOR"),
    ],
)
def test_export_refuses_bad_parameters_naming_them(
    system: str, params: dict[str, Any], named: str, saas_urls: dict[str, str], admin: httpx.Client
) -> None:
    path, size, cursor, *_ = API[system]
    names = {"SIZE": size, "CURSOR": cursor}
    query = {names.get(k, k): v for k, v in params.items()}
    answer = admin.get(saas_urls[system] + path, params=query)
    assert answer.status_code == 400
    assert names.get(named, named) in answer.text


@pytest.mark.parametrize("system", SYSTEMS)
def test_lookup_finds_many_keys_in_one_call_and_refuses_more_than_100(
    system: str, saas_urls: dict[str, str], admin: httpx.Client
) -> None:
    load(admin, saas_urls[system], [copy_for(system, row(n)) for n in range(5)])
    *_, path, param, items = API[system]
    answer = admin.get(saas_urls[system] + path, params={param: "c0000001,C0000003,C0000009"})
    assert answer.status_code == 200, answer.text
    assert sorted(item[LINK[system]] for item in answer.json()[items]) == ["C0000001", "C0000003"]
    if system == "support":
        return  # Zendesk's show_many keeps its own rule: the first 100 values are read
    too_many = admin.get(saas_urls[system] + path, params={param: ",".join(f"C{n}" for n in range(101))})
    assert too_many.status_code == 400 and param in too_many.text
