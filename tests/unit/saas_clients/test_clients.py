"""The SaaS clients against ``httpx.MockTransport``: retries, headers, validation, "already gone"."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from instrumented_app.saas_clients import (
    CommerceClient,
    CommerceCustomerInput,
    MemberInput,
    MembershipClient,
    RetryPolicy,
    SaasCaller,
    SaasRejected,
    SaasResponseInvalid,
    SaasUnavailable,
    SupportClient,
    SupportUserInput,
    parse_retry_after,
)
from instrumented_app.telemetry.correlation import reset_correlation_id, set_correlation_id

STAMP = "2026-01-02T03:04:05Z"
Handler = Callable[[httpx.Request], httpx.Response]


def user_json(**overrides: Any) -> dict[str, Any]:
    user = {"id": 7, "name": "Sato Hana", "email": "h@example.com", "phone": None, "external_id": "C0001"}
    return {**user, "active": True, "created_at": STAMP, "updated_at": STAMP, **overrides}


class Recorder:
    """A MockTransport handler that answers from a script and keeps each request."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def http(handler: Handler, base: str = "http://saas.test") -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler), base_url=base)


def support(recorder: Recorder, sleeps: list[float], attempts: int = 3) -> SupportClient:
    return SupportClient(http(recorder), RetryPolicy(max_attempts=attempts), sleep=sleeps.append)


def test_a_write_carries_idempotency_key_correlation_id_and_traceparent(
    spans: InMemorySpanExporter,
) -> None:
    recorder = Recorder(httpx.Response(201, json={"user": user_json()}))
    token = set_correlation_id("corr-42")
    try:
        user = support(recorder, []).create_user(
            SupportUserInput(name="Sato Hana", email="h@example.com", external_id="C0001"),
            idempotency_key="saga-1:support_user:do",
        )
    finally:
        reset_correlation_id(token)
    sent = recorder.requests[0]
    assert user.id == 7 and user.external_id == "C0001"
    assert sent.headers["Idempotency-Key"] == "saga-1:support_user:do"
    assert sent.headers["X-Correlation-Id"] == "corr-42"
    assert sent.headers["traceparent"].startswith("00-")
    assert json.loads(sent.content) == {
        "user": {"name": "Sato Hana", "email": "h@example.com", "external_id": "C0001"}
    }
    (span,) = [s for s in spans.get_finished_spans() if s.name == "support create_user"]
    attributes = dict(span.attributes or {})
    assert attributes["saas.system"] == "support"
    assert attributes["saas.operation"] == "create_user"
    assert attributes["saas.attempts"] == 1
    assert attributes["correlation_id"] == "corr-42"
    assert f"{span.context.trace_id:032x}" in sent.headers["traceparent"]


def test_429_is_retried_after_the_servers_retry_after() -> None:
    recorder = Recorder(
        httpx.Response(429, headers={"Retry-After": "2"}, json={"error": "TooManyRequests"}),
        httpx.Response(429, headers={"Retry-After": "0.5"}, json={"error": "TooManyRequests"}),
        httpx.Response(201, json={"user": user_json()}),
    )
    sleeps: list[float] = []
    support(recorder, sleeps).create_user(
        SupportUserInput(name="Sato Hana", external_id="C0001"), idempotency_key="k"
    )
    assert len(recorder.requests) == 3
    assert sleeps == [2.0, 0.5]


def test_a_503_with_retry_after_on_a_keyed_write_waits_as_told() -> None:
    recorder = Recorder(
        httpx.Response(503, headers={"Retry-After": "1.5"}, json={"errors": "down"}),
        httpx.Response(201, json={"customer": {"id": 1, "created_at": STAMP, "updated_at": STAMP}}),
    )
    sleeps: list[float] = []
    client = CommerceClient(http(recorder), RetryPolicy(max_attempts=3), sleep=sleeps.append)
    client.create_customer(CommerceCustomerInput(multipass_identifier="C1"), idempotency_key="k")
    assert sleeps == [1.5]
    assert all(request.headers["Idempotency-Key"] == "k" for request in recorder.requests)


def test_5xx_without_retry_after_backs_off_with_growing_jittered_waits() -> None:
    recorder = Recorder(httpx.Response(500, json={"error": "boom"}))
    sleeps: list[float] = []
    policy = RetryPolicy(max_attempts=4, backoff_base_s=1.0, backoff_max_s=3.0)
    client = SupportClient(http(recorder), policy, sleep=sleeps.append)
    with pytest.raises(SaasUnavailable) as raised:
        client.get_user(7)
    assert len(recorder.requests) == 4
    assert len(sleeps) == 3
    assert all(0 <= wait <= ceiling for wait, ceiling in zip(sleeps, [1.0, 2.0, 3.0], strict=True))
    assert raised.value.status == 500 and raised.value.definite  # an answer: the write did not happen


def test_a_post_without_idempotency_key_is_not_retried_after_a_timeout_or_5xx() -> None:
    for answer in (httpx.ReadTimeout("slow"), httpx.Response(500, json={"error": "boom"})):
        recorder = Recorder(answer)
        caller = SaasCaller(http(recorder), "support", RetryPolicy(max_attempts=3), sleep=lambda _s: None)
        with pytest.raises(SaasUnavailable) as raised:
            caller.call("POST", "/api/v2/users.json", operation="create_user", json_body={"user": {}})
        assert len(recorder.requests) == 1, answer
        assert raised.value.retryable is False
        # A timeout leaves the outcome unknown (the write may have landed); a 5xx answer does not.
        assert raised.value.definite is isinstance(answer, httpx.Response)


def test_a_timeout_on_a_keyed_write_is_retried_with_the_same_key() -> None:
    member = {"id": "M1", "member_no": "C1", "full_name": "A B", "status": "active"}
    recorder = Recorder(
        httpx.ReadTimeout("slow"),
        httpx.Response(201, json={**member, "created_at": STAMP, "updated_at": STAMP}),
    )
    client = MembershipClient(http(recorder), RetryPolicy(max_attempts=2), sleep=lambda _s: None)
    created = client.create_member(MemberInput(member_no="C1", full_name="A B"), idempotency_key="m-key")
    assert created.id == "M1"
    assert [r.headers["Idempotency-Key"] for r in recorder.requests] == ["m-key", "m-key"]


def test_a_4xx_rejection_is_definite_and_not_retried() -> None:
    body = {"error": "RecordInvalid", "details": {"email": [{"description": "Email: x@y.com is taken"}]}}
    recorder = Recorder(httpx.Response(422, json=body))
    with pytest.raises(SaasRejected) as raised:
        support(recorder, []).create_user(SupportUserInput(name="A", external_id="C1"), idempotency_key="k")
    assert len(recorder.requests) == 1
    assert raised.value.definite and raised.value.status == 422
    assert "x@y.com" not in str(raised.value)  # vendor texts quote PII; the error masks it


def test_a_malformed_answer_is_an_error_naming_the_field() -> None:
    recorder = Recorder(httpx.Response(201, json={"user": user_json(id="not-a-number", created_at=None)}))
    with pytest.raises(SaasResponseInvalid) as raised:
        support(recorder, []).create_user(SupportUserInput(name="A", external_id="C1"), idempotency_key="k")
    assert "user.id" in str(raised.value)
    assert "user.created_at" in str(raised.value)


def test_delete_of_something_already_gone_is_success() -> None:
    gone = Recorder(httpx.Response(404, json={"error": "RecordNotFound"}))
    assert support(gone, []).delete_user(7, idempotency_key="k") is False
    deleted = Recorder(httpx.Response(204))
    membership = MembershipClient(http(deleted), sleep=lambda _s: None)
    assert membership.delete_member("M1", idempotency_key="k") is True
    assert deleted.requests[0].method == "DELETE" and deleted.requests[0].headers["Idempotency-Key"] == "k"


def test_lookups_by_cust_no_use_each_systems_natural_key() -> None:
    recorder = Recorder(httpx.Response(200, json={"customers": []}))
    assert CommerceClient(http(recorder), api_version="2025-01").find_by_multipass("C0001") == []
    sent = recorder.requests[0]
    assert sent.url.path == "/admin/api/2025-01/customers/search.json"
    assert sent.url.params["query"] == "multipass_identifier:C0001"
    users = Recorder(httpx.Response(200, json={"users": [user_json(active=False)]}))
    assert support(users, []).find_by_external_id("C0001") is None  # a deleted user does not count


def test_retry_after_parses_seconds_and_http_dates() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC)
    assert parse_retry_after("2.0") == 2.0
    assert parse_retry_after("Thu, 01 Jan 2026 00:00:03 GMT", now=now) == 3.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_a_bad_policy_is_refused_naming_the_field() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)


def test_a_5xx_after_a_lost_answer_leaves_the_outcome_unknown() -> None:
    """The saga compensates a step whose outcome is unknown: a 503 on the last attempt does not
    prove the first attempt (whose answer was lost) wrote nothing."""
    lost_then_503 = Recorder(httpx.ReadTimeout("answer lost"), httpx.Response(503, json={"errors": "down"}))
    with pytest.raises(SaasUnavailable) as raised:
        support(lost_then_503, [], attempts=2).create_user(
            SupportUserInput(name="A", external_id="C1"), idempotency_key="k"
        )
    assert len(lost_then_503.requests) == 2
    assert not raised.value.definite

    only_503 = Recorder(httpx.Response(503, json={"errors": "down"}))
    with pytest.raises(SaasUnavailable) as raised:
        support(only_503, [], attempts=2).create_user(
            SupportUserInput(name="A", external_id="C1"), idempotency_key="k"
        )
    assert raised.value.definite, "every attempt was answered: nothing was written"

    refused_then_503 = Recorder(httpx.ConnectError("refused"), httpx.Response(503, json={"errors": "down"}))
    with pytest.raises(SaasUnavailable) as raised:
        support(refused_then_503, [], attempts=2).create_user(
            SupportUserInput(name="A", external_id="C1"), idempotency_key="k"
        )
    assert raised.value.definite, "a connection never made sent nothing"
