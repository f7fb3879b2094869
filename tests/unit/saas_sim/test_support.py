"""The support simulator, over HTTP, in Zendesk's shapes."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx

USERS = "/api/v2/users.json"


def _create(client: httpx.Client, base: str, **user: str) -> httpx.Response:
    return client.post(f"{base}{USERS}", json={"user": user})


def test_user_round_trip_in_zendesk_shapes(urls: dict[str, str], client: httpx.Client) -> None:
    base = urls["support"]
    created = _create(client, base, name="Ann Lee", email="ann@example.com", external_id="C000001")
    assert created.status_code == 201
    user = created.json()["user"]
    assert user["name"] == "Ann Lee" and user["external_id"] == "C000001" and user["active"] is True
    assert user["url"] == f"{base}/api/v2/users/{user['id']}.json"
    assert user["created_at"].endswith("Z")

    shown = client.get(f"{base}/api/v2/users/{user['id']}.json").json()["user"]
    assert shown == user

    updated = client.put(
        f"{base}/api/v2/users/{user['id']}.json", json={"user": {"phone": "+81 3 1234 5678"}}
    )
    assert updated.status_code == 200
    assert updated.json()["user"]["phone"] == "+81 3 1234 5678"
    assert updated.json()["user"]["name"] == "Ann Lee"

    deleted = client.delete(f"{base}/api/v2/users/{user['id']}.json")
    assert deleted.status_code == 200 and deleted.json()["user"]["active"] is False
    # Zendesk soft-deletes: the user can still be read, but a second delete finds nothing to delete.
    assert client.get(f"{base}/api/v2/users/{user['id']}.json").json()["user"]["active"] is False
    again = client.delete(f"{base}/api/v2/users/{user['id']}.json")
    assert again.status_code == 404 and again.json()["error"] == "RecordNotFound"


def test_missing_user_is_record_not_found(urls: dict[str, str], client: httpx.Client) -> None:
    response = client.get(f"{urls['support']}/api/v2/users/999.json")
    assert response.status_code == 404
    assert response.json() == {"error": "RecordNotFound", "description": "Not found"}


def test_external_id_is_unique_case_insensitively(urls: dict[str, str], client: httpx.Client) -> None:
    base = urls["support"]
    assert _create(client, base, name="A", external_id="Cust-7").status_code == 201
    clash = _create(client, base, name="B", external_id="cUST-7")
    assert clash.status_code == 422
    body = clash.json()
    assert body["error"] == "RecordInvalid"
    assert body["details"]["external_id"][0]["error"] == "DuplicateValue"
    assert "cUST-7" in body["details"]["external_id"][0]["description"]


def test_validation_errors_name_the_field(urls: dict[str, str], client: httpx.Client) -> None:
    base = urls["support"]
    no_name = _create(client, base, email="x@example.com")
    assert no_name.status_code == 422 and "name" in no_name.json()["details"]
    bad_email = _create(client, base, name="X", email="not-an-email")
    assert bad_email.status_code == 422
    assert "not properly formatted" in bad_email.json()["details"]["email"][0]["description"]
    not_wrapped = client.post(f"{base}{USERS}", json={"name": "X"})
    assert not_wrapped.status_code == 400 and "user" in not_wrapped.json()["description"]


def test_deleting_frees_the_external_id(urls: dict[str, str], client: httpx.Client) -> None:
    base = urls["support"]
    first = _create(client, base, name="A", external_id="C9").json()["user"]
    client.delete(f"{base}/api/v2/users/{first['id']}.json").raise_for_status()
    assert _create(client, base, name="A again", external_id="c9").status_code == 201


def test_create_or_update_matches_by_external_id_then_email(
    urls: dict[str, str], client: httpx.Client
) -> None:
    url = f"{urls['support']}/api/v2/users/create_or_update.json"
    made = client.post(url, json={"user": {"name": "Ann", "external_id": "C1", "email": "ann@example.com"}})
    assert made.status_code == 201
    by_external_id = client.post(url, json={"user": {"name": "Ann B", "external_id": "c1"}})
    assert by_external_id.status_code == 200
    assert by_external_id.json()["user"]["id"] == made.json()["user"]["id"]
    assert by_external_id.json()["user"]["name"] == "Ann B"
    by_email = client.post(url, json={"user": {"name": "Ann C", "email": "ANN@example.com"}})
    assert by_email.status_code == 200 and by_email.json()["user"]["id"] == made.json()["user"]["id"]
    other = client.post(url, json={"user": {"name": "Bob", "external_id": "C2"}})
    assert other.status_code == 201 and other.json()["user"]["id"] != made.json()["user"]["id"]


def test_search_by_external_id(urls: dict[str, str], client: httpx.Client) -> None:
    base = urls["support"]
    user = _create(client, base, name="A", external_id="Find-Me").json()["user"]
    _create(client, base, name="B", external_id="Other")
    found = client.get(f"{base}/api/v2/users/search.json", params={"external_id": "find-me"}).json()
    assert [item["id"] for item in found["users"]] == [user["id"]]


def _walk(client: httpx.Client, first_url: str, on_page: Callable[[], None] | None = None) -> list[int]:
    ids: list[int] = []
    url = first_url
    for _ in range(1000):
        page = client.get(url).json()
        ids.extend(user["id"] for user in page["users"])
        if on_page is not None:
            on_page()
        if not page["meta"]["has_more"]:
            return ids
        url = page["links"]["next"]
        assert page["meta"]["after_cursor"] in url
    raise AssertionError("pagination did not end")


def test_cursor_pagination_walks_every_user_once(urls: dict[str, str], client: httpx.Client) -> None:
    base = urls["support"]
    made = [_create(client, base, name=f"U{n}").json()["user"]["id"] for n in range(23)]
    ids = _walk(client, f"{base}{USERS}?page%5Bsize%5D=5")
    assert ids == made


def test_cursor_pagination_sees_concurrent_inserts_once(urls: dict[str, str], client: httpx.Client) -> None:
    base = urls["support"]
    before = [_create(client, base, name=f"U{n}").json()["user"]["id"] for n in range(30)]
    added: list[int] = []
    lock = threading.Lock()

    def insert_two() -> None:
        for _ in range(2):
            user_id = _create(other, base, name="late").json()["user"]["id"]
            with lock:
                added.append(user_id)

    def insert_concurrently() -> None:
        inserter = threading.Thread(target=insert_two)
        inserter.start()
        inserter.join(timeout=10)

    with httpx.Client(timeout=10) as other:
        ids = _walk(client, f"{base}{USERS}?page%5Bsize%5D=4", on_page=insert_concurrently)
    assert len(ids) == len(set(ids)), "a user was returned twice"
    assert set(before) <= set(ids)
    assert set(ids) <= set(before) | set(added)


def test_page_size_over_100_is_refused(urls: dict[str, str], client: httpx.Client) -> None:
    response = client.get(f"{urls['support']}{USERS}", params={"page[size]": 101})
    assert response.status_code == 400 and "page[size]" in response.json()["description"]


def test_incremental_export_from_start_time(urls: dict[str, str], client: httpx.Client) -> None:
    base = urls["support"]
    export = f"{base}/api/v2/incremental/users/cursor.json"
    long_ago = datetime.now(UTC) - timedelta(days=30)
    client.put(f"{base}/_admin/clock", json={"now": long_ago.isoformat()}).raise_for_status()
    old = _create(client, base, name="Old").json()["user"]
    client.put(f"{base}/_admin/clock", json={"now": None}).raise_for_status()
    recent = [_create(client, base, name=f"New {n}").json()["user"]["id"] for n in range(5)]

    start = int((datetime.now(UTC) - timedelta(days=1)).timestamp())
    first = client.get(export, params={"start_time": start, "per_page": 3}).json()
    assert [user["id"] for user in first["users"]] == recent[:3]
    assert first["end_of_stream"] is False
    second = client.get(first["after_url"]).json()
    assert [user["id"] for user in second["users"]] == recent[3:]
    assert second["end_of_stream"] is True
    assert old["id"] not in {user["id"] for user in first["users"] + second["users"]}

    # Polling later from the last cursor returns only what changed since, deletions included.
    client.delete(f"{base}/api/v2/users/{recent[0]}.json").raise_for_status()
    later = client.get(export, params={"cursor": second["after_cursor"]}).json()
    assert [(user["id"], user["active"]) for user in later["users"]] == [(recent[0], False)]
    assert later["end_of_stream"] is True


def test_export_without_start_time_or_cursor_is_refused(urls: dict[str, str], client: httpx.Client) -> None:
    response = client.get(f"{urls['support']}/api/v2/incremental/users/cursor.json")
    assert response.status_code == 400 and "start_time" in response.json()["description"]
    forged = client.get(f"{urls['support']}/api/v2/incremental/users/cursor.json", params={"cursor": "abc"})
    assert forged.status_code == 400 and "cursor" in forged.json()["description"]


def test_rate_limit_reports_remaining_and_retry_after(urls: dict[str, str], client: httpx.Client) -> None:
    base = urls["support"]
    client.put(f"{base}/_admin/faults", json={"rate_limit_per_s": 0.5, "burst": 3}).raise_for_status()
    answers = [client.get(f"{base}{USERS}") for _ in range(4)]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 429]
    assert [answer.headers["X-Rate-Limit-Remaining"] for answer in answers[:3]] == ["2", "1", "0"]
    assert int(answers[3].headers["Retry-After"]) >= 1
    assert answers[3].json()["error"] == "TooManyRequests"


def test_cursor_pagination_walks_back_with_page_before(urls: dict[str, str], client: httpx.Client) -> None:
    base = urls["support"]
    made = [_create(client, base, name=f"U{n}").json()["user"]["id"] for n in range(9)]
    first = client.get(f"{base}{USERS}", params={"page[size]": 5}).json()
    last = client.get(
        f"{base}{USERS}", params={"page[size]": 4, "page[after]": first["meta"]["after_cursor"]}
    )
    last = last.json()
    assert [user["id"] for user in last["users"]] == made[-4:] and last["meta"]["has_more"] is False
    seen = [user["id"] for user in last["users"]]
    url = last["links"]["prev"]
    for _ in range(10):
        page = client.get(url).json()
        seen = [user["id"] for user in page["users"]] + seen
        if not page["meta"]["has_more"]:
            break
        url = page["links"]["prev"]
    assert seen == made
