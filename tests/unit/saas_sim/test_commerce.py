"""The commerce simulator, over HTTP, in Shopify's shapes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx

from tests.unit.saas_sim.conftest import SHOPIFY

CUSTOMERS = f"{SHOPIFY}/customers.json"
_NEXT = re.compile(r'<([^>]+)>; rel="next"')


def _create(client: httpx.Client, base: str, **customer: str) -> httpx.Response:
    return client.post(f"{base}{CUSTOMERS}", json={"customer": customer})


def test_customer_round_trip_in_shopify_shapes(urls: dict[str, str], client: httpx.Client) -> None:
    base = urls["commerce"]
    created = _create(
        client,
        base,
        first_name="Ann",
        last_name="Lee",
        email="ann@example.com",
        phone="+1 415-555-2671",
        multipass_identifier="C000001",
    )
    assert created.status_code == 201
    customer = created.json()["customer"]
    assert customer["phone"] == "+14155552671", "phone numbers are stored in E.164"
    assert customer["multipass_identifier"] == "C000001"
    assert customer["admin_graphql_api_id"] == f"gid://shopify/Customer/{customer['id']}"
    assert datetime.fromisoformat(customer["updated_at"]).tzinfo is not None

    one = f"{base}{SHOPIFY}/customers/{customer['id']}.json"
    assert client.get(one).json()["customer"] == customer
    updated = client.put(one, json={"customer": {"last_name": "Lee-Smith"}})
    assert updated.status_code == 200 and updated.json()["customer"]["last_name"] == "Lee-Smith"
    assert client.delete(one).json() == {}
    gone = client.get(one)
    assert gone.status_code == 404 and gone.json() == {"errors": "Not Found"}
    assert client.delete(one).status_code == 404


def test_validation_errors_in_shopify_shape(urls: dict[str, str], client: httpx.Client) -> None:
    base = urls["commerce"]
    _create(client, base, first_name="A", email="taken@example.com", phone="+14155552671")
    clash = _create(client, base, first_name="B", email="TAKEN@example.com", phone="+14155552671")
    assert clash.status_code == 422
    assert clash.json() == {
        "errors": {"email": ["has already been taken"], "phone": ["has already been taken"]}
    }
    bad_phone = _create(client, base, first_name="C", phone="12345")
    assert bad_phone.status_code == 422 and bad_phone.json() == {"errors": {"phone": ["is invalid"]}}
    nameless = _create(client, base, note="nothing to know them by")
    assert nameless.status_code == 422 and "customer" in nameless.json()["errors"]


def test_link_header_pagination_walks_every_customer_once(urls: dict[str, str], client: httpx.Client) -> None:
    base = urls["commerce"]
    made = [_create(client, base, first_name=f"C{n}").json()["customer"]["id"] for n in range(12)]
    seen: list[int] = []
    url: str | None = f"{base}{CUSTOMERS}?limit=5"
    for _ in range(100):
        assert url is not None
        page = client.get(url)
        seen.extend(customer["id"] for customer in page.json()["customers"])
        found = _NEXT.search(page.headers.get("Link", ""))
        url = found.group(1) if found else None
        if url is None:
            break
        assert "page_info=" in url and "limit=5" in url
    assert seen == made


def test_updated_at_min_and_since_id(urls: dict[str, str], client: httpx.Client) -> None:
    base = urls["commerce"]
    week_ago = datetime.now(UTC) - timedelta(days=7)
    client.put(f"{base}/_admin/clock", json={"now": week_ago.isoformat()}).raise_for_status()
    old = _create(client, base, first_name="Old").json()["customer"]["id"]
    client.put(f"{base}/_admin/clock", json={"now": None}).raise_for_status()
    new = [_create(client, base, first_name=f"New{n}").json()["customer"]["id"] for n in range(3)]

    since = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    page = client.get(f"{base}{CUSTOMERS}", params={"updated_at_min": since, "limit": 2})
    assert [c["id"] for c in page.json()["customers"]] == new[:2]
    # The filter travels inside page_info: the next page still leaves the old customer out.
    next_url = _NEXT.search(page.headers["Link"])
    assert next_url is not None
    assert [c["id"] for c in client.get(next_url.group(1)).json()["customers"]] == new[2:]

    after_first = client.get(f"{base}{CUSTOMERS}", params={"since_id": old}).json()["customers"]
    assert [c["id"] for c in after_first] == new


def test_bad_list_parameters_are_named(urls: dict[str, str], client: httpx.Client) -> None:
    base = urls["commerce"]
    too_many = client.get(f"{base}{CUSTOMERS}", params={"limit": 251})
    assert too_many.status_code == 400 and "limit" in too_many.json()["errors"]
    bad_time = client.get(f"{base}{CUSTOMERS}", params={"updated_at_min": "yesterday"})
    assert bad_time.status_code == 400 and "updated_at_min" in bad_time.json()["errors"]
    mixed = client.get(f"{base}{CUSTOMERS}", params={"page_info": "abc", "updated_at_min": "2024-01-01"})
    assert mixed.status_code == 400 and "page_info" in mixed.json()["errors"]


def test_search_by_email(urls: dict[str, str], client: httpx.Client) -> None:
    base = urls["commerce"]
    wanted = _create(client, base, first_name="A", email="a@example.com").json()["customer"]["id"]
    _create(client, base, first_name="B", email="b@example.com")
    found = client.get(f"{base}{SHOPIFY}/customers/search.json", params={"query": "email:A@example.com"})
    assert [c["id"] for c in found.json()["customers"]] == [wanted]
    assert client.get(f"{base}{SHOPIFY}/customers/count.json").json() == {"count": 2}


def test_leaky_bucket_answers_429_with_retry_after(urls: dict[str, str], client: httpx.Client) -> None:
    base = urls["commerce"]
    client.put(f"{base}/_admin/faults", json={"rate_limit_per_s": 2}).raise_for_status()
    answers = [client.get(f"{base}{CUSTOMERS}") for _ in range(41)]
    assert all(answer.status_code == 200 for answer in answers[:40])
    assert answers[0].headers["X-Shopify-Shop-Api-Call-Limit"] == "1/40"
    assert answers[39].headers["X-Shopify-Shop-Api-Call-Limit"].endswith("/40")
    refused = answers[40]
    assert refused.status_code == 429
    assert 0 < float(refused.headers["Retry-After"]) <= 1.0, "one call leaks out in half a second at 2/s"
    assert "errors" in refused.json()


def test_search_by_multipass_identifier_finds_every_holder(
    urls: dict[str, str], client: httpx.Client
) -> None:
    base = urls["commerce"]
    # Shopify does not keep multipass_identifier unique: two customers for one cust_no is a drift to find.
    ids = [
        _create(client, base, first_name=f"N{n}", multipass_identifier="C42").json()["customer"]["id"]
        for n in range(2)
    ]
    found = client.get(f"{base}{SHOPIFY}/customers/search.json", params={"query": "multipass_identifier:C42"})
    assert [c["id"] for c in found.json()["customers"]] == ids
    bad = client.get(f"{base}{SHOPIFY}/customers/search.json", params={"query": "city:Paris"})
    assert bad.status_code == 400 and "query" in bad.json()["errors"]
