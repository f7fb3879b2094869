"""The membership simulator: a plain REST member API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx


def _create(client: httpx.Client, base: str, **member: str) -> httpx.Response:
    return client.post(f"{base}/members", json=member)


def test_member_round_trip(urls: dict[str, str], client: httpx.Client) -> None:
    base = urls["membership"]
    created = _create(
        client,
        base,
        member_no="C000001",
        full_name="Ann Lee",
        email="ann@example.com",
        phone="+81 3-1234-5678",
    )
    assert created.status_code == 201
    member = created.json()
    assert member["member_no"] == "C000001" and member["status"] == "active"
    assert member["phone"] == "+81312345678"
    assert member["updated_at"].endswith("Z")

    one = f"{base}/members/{member['id']}"
    assert client.get(one).json() == member
    updated = client.put(one, json={"status": "suspended"})
    assert updated.status_code == 200 and updated.json()["status"] == "suspended"
    assert updated.json()["full_name"] == "Ann Lee"
    assert client.delete(one).status_code == 204
    missing = client.get(one)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


def test_member_no_is_unique(urls: dict[str, str], client: httpx.Client) -> None:
    base = urls["membership"]
    assert _create(client, base, member_no="C1", full_name="A").status_code == 201
    clash = _create(client, base, member_no="C1", full_name="B")
    assert clash.status_code == 409
    assert clash.json()["error"]["field"] == "member_no"


def test_bad_fields_are_named(urls: dict[str, str], client: httpx.Client) -> None:
    base = urls["membership"]
    cases = {
        "full_name": {"member_no": "C1"},
        "member_no": {"full_name": "A"},
        "email": {"member_no": "C1", "full_name": "A", "email": "nope"},
        "phone": {"member_no": "C1", "full_name": "A", "phone": "0312345678"},
        "status": {"member_no": "C1", "full_name": "A", "status": "gold"},
        "nickname": {"member_no": "C1", "full_name": "A", "nickname": "x"},
    }
    for field, body in cases.items():
        response = client.post(f"{base}/members", json=body)
        assert response.status_code in (400, 422), field
        assert response.json()["error"]["field"] == field, response.json()


def test_updated_since_paging_walks_every_member_once(urls: dict[str, str], client: httpx.Client) -> None:
    base = urls["membership"]
    month_ago = datetime.now(UTC) - timedelta(days=30)
    client.put(f"{base}/_admin/clock", json={"now": month_ago.isoformat()}).raise_for_status()
    _create(client, base, member_no="OLD", full_name="Old")
    client.put(f"{base}/_admin/clock", json={"now": None}).raise_for_status()
    made = [_create(client, base, member_no=f"C{n}", full_name="N").json()["id"] for n in range(7)]

    since = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    seen: list[str] = []
    params: dict[str, str | int] = {"updated_since": since, "limit": 3}
    for _ in range(100):
        page = client.get(f"{base}/members", params=params).json()
        seen.extend(member["id"] for member in page["members"])
        if page["next_cursor"] is None:
            break
        params = {"cursor": page["next_cursor"], "limit": 3}
    assert seen == made


def test_bad_list_parameters_are_named(urls: dict[str, str], client: httpx.Client) -> None:
    base = urls["membership"]
    for params, field in (
        ({"limit": 0}, "limit"),
        ({"updated_since": "last week"}, "updated_since"),
        ({"cursor": "!!"}, "cursor"),
    ):
        response = client.get(f"{base}/members", params=params)
        assert response.status_code == 400 and response.json()["error"]["field"] == field


def test_member_no_filter_finds_one_member_whatever_its_case(
    urls: dict[str, str], client: httpx.Client
) -> None:
    base = urls["membership"]
    wanted = _create(client, base, member_no="C7", full_name="Seven").json()["id"]
    _create(client, base, member_no="C8", full_name="Eight")
    found = client.get(f"{base}/members", params={"member_no": "c7"}).json()
    assert [member["id"] for member in found["members"]] == [wanted] and found["next_cursor"] is None
    assert client.get(f"{base}/members", params={"member_no": "C9"}).json()["members"] == []
