"""``SaasHttp``: what is retried, how long it waits, what an error says; batched lookups."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from reconciler.sources.base import SourceError
from reconciler.sources.http import (
    RetryPolicy,
    SaasHttp,
    lookup_in_batches,
    parse_retry_after,
    scrub_pii,
)


def _http(responses: list[httpx.Response], attempts: int = 5) -> SaasHttp:
    calls = iter(responses)

    def handler(_: httpx.Request) -> httpx.Response:
        return next(calls)

    return SaasHttp(
        httpx.Client(base_url="http://saas.test", transport=httpx.MockTransport(handler)),
        "support",
        RetryPolicy(attempts=attempts, initial_wait_s=0.01, max_wait_s=5.0),
    )


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("3", 3.0),
        ("2.5", 2.5),
        ("Wed, 01 Jan 2030 00:00:10 GMT", 10.0),
        ("soon", None),
        (None, None),
        ("-4", 0.0),
    ],
)
def test_retry_after_values(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, now=datetime(2030, 1, 1, tzinfo=UTC)) == seconds


def test_429_waits_what_retry_after_says(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    monkeypatch.setattr("reconciler.sources.http.time.sleep", waits.append)
    http = _http(
        [
            httpx.Response(429, headers={"Retry-After": "1.5"}),
            httpx.Response(503),
            httpx.Response(200, json={}),
        ]
    )
    assert http.request("GET", "/x").status_code == 200
    assert waits[0] == 1.5 and 0 < waits[1] < 1.0 and http.retries == 2


def test_retry_after_is_capped_by_the_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    monkeypatch.setattr("reconciler.sources.http.time.sleep", waits.append)
    http = _http([httpx.Response(429, headers={"Retry-After": "3600"}), httpx.Response(200)])
    http.request("GET", "/x")
    assert waits == [5.0]


def test_client_errors_are_not_retried_and_pii_is_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    monkeypatch.setattr("reconciler.sources.http.time.sleep", waits.append)
    body = {"error": "RecordInvalid", "description": "taro@example.com has already been taken; +819012345678"}
    http = _http([httpx.Response(422, json=body)])
    with pytest.raises(SourceError) as caught:
        http.request("POST", "/api/v2/users.json")
    message = str(caught.value)
    assert message.startswith("support: POST /api/v2/users.json answered HTTP 422 (not retried)")
    assert "taro@example.com" not in message and "12345678" not in message and waits == []


def test_attempts_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("reconciler.sources.http.time.sleep", lambda _: None)
    http = _http([httpx.Response(500)] * 3, attempts=3)
    with pytest.raises(SourceError, match=r"HTTP 500 \(after 3 attempts\)"):
        http.request("GET", "/x")


def test_scrub_keeps_the_rest_of_the_message() -> None:
    assert scrub_pii("email a.b@example.co.jp is taken") == "email a***@***.jp is taken"


@pytest.mark.parametrize("workers", [1, 3])
def test_lookups_go_a_batch_a_call_in_order_and_a_comma_key_alone(workers: int) -> None:
    calls: list[tuple[str, ...]] = []

    def fetch_batch(keys: Sequence[str]) -> list[Mapping[str, Any]]:
        calls.append(tuple(keys))
        return [{"key": key} for key in keys]

    def fetch_one(key: str) -> list[Mapping[str, Any]]:
        calls.append(("one", key))
        return [{"key": key}]

    keys = [f"C{n}" for n in range(7)] + ["C,8"]
    found = lookup_in_batches(keys, fetch_batch, fetch_one, batch_size=3, workers=workers)
    assert [item["key"] for item in found] == keys
    assert sorted(calls) == sorted([("C0", "C1", "C2"), ("C3", "C4", "C5"), ("C6",), ("one", "C,8")])
