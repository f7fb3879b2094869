"""The vendors' own Python clients (zenpy for Zendesk, ShopifyAPI for Shopify) work against the simulators.

This is the check that the shapes are the real ones: these libraries parse
Zendesk's envelopes, cursors and ``Retry-After``, and Shopify's ``Link``
header, call-limit header and 422 errors, exactly as they do in production.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import urlparse

import httpx
import pytest
import shopify
from zenpy import Zenpy
from zenpy.lib.api_objects import User
from zenpy.lib.exception import APIException


@pytest.fixture
def zendesk(urls: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> Zenpy:
    # zenpy's documented overrides for pointing it at a stand-in server
    monkeypatch.setenv("ZENPY_FORCE_SCHEME", "http")
    monkeypatch.setenv("ZENPY_FORCE_NETLOC", urlparse(urls["support"]).netloc)
    return Zenpy(subdomain="sim", email="ops@example.com", token="not-a-secret")


@pytest.fixture
def shop(urls: dict[str, str]) -> Iterator[None]:
    shopify.ShopifyResource.set_site(f"{urls['commerce']}/admin/api/2024-07")
    yield
    shopify.ShopifyResource.clear_session()


def test_zenpy_creates_reads_updates_upserts_and_deletes(zendesk: Zenpy) -> None:
    user = zendesk.users.create(User(name="Ann", email="ann@example.com", external_id="C000001"))
    assert zendesk.users(id=user.id).email == "ann@example.com"
    user.name = "Ann Lee"
    assert zendesk.users.update(user).name == "Ann Lee"
    upserted = zendesk.users.create_or_update(User(name="Ann L.", external_id="c000001"))
    assert upserted.id == user.id and upserted.name == "Ann L."
    assert [found.id for found in zendesk.users(external_id="C000001")] == [user.id]
    zendesk.users.delete(user)
    assert zendesk.users(id=user.id).active is False


def test_zenpy_reports_the_duplicate_external_id(zendesk: Zenpy) -> None:
    zendesk.users.create(User(name="A", external_id="C1"))
    with pytest.raises(APIException, match="DuplicateValue"):
        zendesk.users.create(User(name="B", external_id="c1"))


def test_zenpy_pages_by_cursor_and_exports_incrementally(zendesk: Zenpy) -> None:
    made = [zendesk.users.create(User(name=f"U{n}")).id for n in range(7)]
    assert [user.id for user in zendesk.users(cursor_pagination=3)] == made
    exported = zendesk.users.incremental(start_time=int(time.time()) - 3600, paginate_by_time=False)
    assert [user.id for user in exported] == made


def test_zenpy_waits_out_a_429_by_its_retry_after(
    zendesk: Zenpy, urls: dict[str, str], client: httpx.Client
) -> None:
    client.put(
        f"{urls['support']}/_admin/faults", json={"rate_limit_per_s": 2, "burst": 1}
    ).raise_for_status()
    started = time.monotonic()
    names = [zendesk.users.create(User(name=f"U{n}")).name for n in range(2)]
    assert names == ["U0", "U1"]
    assert time.monotonic() - started >= 1.0, "the second call was refused and retried after Retry-After: 1"


def test_shopify_api_round_trip_and_errors(shop: None) -> None:
    customer = shopify.Customer.create(
        {
            "first_name": "Ann",
            "email": "ann@example.com",
            "phone": "+14155552671",
            "multipass_identifier": "C1",
        }
    )
    assert customer.errors.full_messages() == []
    customer.last_name = "Lee"
    assert customer.save()
    assert shopify.Customer.find(customer.id).last_name == "Lee"
    clash = shopify.Customer({"first_name": "B", "email": "ANN@example.com"})
    assert not clash.save()
    assert clash.errors.full_messages() == ["email has already been taken"]
    customer.destroy()
    with pytest.raises(Exception, match="Not Found"):
        shopify.Customer.find(customer.id)


def test_shopify_api_follows_the_link_header(shop: None) -> None:
    made = [shopify.Customer.create({"first_name": f"C{n}"}).id for n in range(8)]
    page = shopify.Customer.find(limit=3)
    seen = [customer.id for customer in page]
    for _ in range(10):
        if not page.has_next_page():
            break
        page = page.next_page()
        seen.extend(customer.id for customer in page)
    assert seen == made


def test_shopify_api_reads_the_call_limit(shop: None, urls: dict[str, str], client: httpx.Client) -> None:
    client.put(f"{urls['commerce']}/_admin/faults", json={"rate_limit_per_s": 2}).raise_for_status()
    shopify.Customer.find(limit=1)
    shopify.Customer.find(limit=1)
    assert shopify.Limits.credit_limit() == 40
    assert shopify.Limits.credit_used() == 2


def test_shopify_api_walks_back_with_the_previous_link(shop: None) -> None:
    made = [shopify.Customer.create({"first_name": f"C{n}"}).id for n in range(5)]
    page = shopify.Customer.find(limit=2)
    while page.has_next_page():
        page = page.next_page()
    assert [customer.id for customer in page] == made[4:]
    assert page.has_previous_page()
    back = page.previous_page()
    assert [customer.id for customer in back] == made[2:4]
