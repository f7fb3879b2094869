"""The API front over real HTTP when things go wrong or get busy: 5xx as API Gateway answers them,
limits, response headers, correlation ids, concurrency and the metrics it gathers."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from instrumented_app.runtime.api_front import RouteTable
from tests.unit.runtime.test_api_front_helpers import STAGE, Handler, Serve, route_table, serving


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> RouteTable:
    return route_table(tmp_path_factory.mktemp("api"))


@pytest.fixture
def serve(table: RouteTable) -> Iterator[Serve]:
    with serving(table) as start:
        yield start


def _raise(event: dict[str, Any]) -> Any:
    raise RuntimeError("database is down")


@pytest.mark.parametrize(
    "handler",
    [
        _raise,
        lambda event: {"body": "no status code"},
        lambda event: {"statusCode": 200, "body": {"not": "a string"}},
        lambda event: "just a string",
        lambda event: {"statusCode": 200, "body": "%%%", "isBase64Encoded": True},
    ],
    ids=["function-error", "no-status-code", "body-not-string", "not-an-object", "bad-base64"],
)
def test_a_failed_or_malformed_invocation_is_a_502(serve: Serve, handler: Handler) -> None:
    client, invoker, _ = serve(Echo=handler)
    response = client.get("/files/x")
    assert response.status_code == 502
    assert response.json() == {"message": "Internal server error"}
    assert len(invoker.calls) == 1


def test_an_undeployed_function_is_a_500_not_a_crash(serve: Serve) -> None:
    client, invoker, _ = serve()
    del invoker.handlers["Echo"]
    response = client.get("/files/x")
    assert response.status_code == 500
    assert response.json() == {"message": "Internal server error"}


def test_a_fault_inside_the_runtime_is_a_500_with_the_request_id(serve: Serve) -> None:
    client, invoker, _ = serve()

    def broken_invoke(function_name: str, event: Any, *, qualifier: str | None = None) -> Any:
        raise ConnectionError("moto went away")

    invoker.invoke = broken_invoke  # type: ignore[method-assign]
    response = client.get("/files/x")
    assert response.status_code == 500
    assert response.json() == {"message": "Internal server error"}
    assert response.headers["x-amzn-requestid"]


def test_a_header_name_that_is_not_a_token_makes_the_response_malformed(serve: Serve) -> None:
    client, _, _ = serve(Echo=lambda event: {"statusCode": 200, "headers": {"Bad Name": "x"}, "body": ""})
    assert client.get("/files/x").status_code == 502


def test_a_body_over_the_payload_limit_is_refused_before_any_invoke(serve: Serve) -> None:
    client, invoker, _ = serve(max_body_bytes=1024)
    response = client.post("/upload", content=b"x" * 1025)
    assert response.status_code == 413
    assert response.json() == {"message": "Request Too Long"}
    assert client.post("/upload", content=b"x" * 1024).status_code == 200
    assert len(invoker.calls) == 1


def test_the_proxy_response_headers_status_and_binary_body_go_back_as_set(serve: Serve) -> None:
    image = bytes(range(256))
    client, _, _ = serve(
        Echo=lambda event: {
            "statusCode": 207,
            "headers": {
                "Content-Type": "image/png",
                "Set-Cookie": "dropped=1",
                "X-City": "東京",
                "X-Count": 3,
                "Content-Length": "1",  # wrong on purpose: the front frames the body itself
            },
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "body": base64.b64encode(image).decode(),
            "isBase64Encoded": True,
        }
    )
    response = client.get("/files/x")
    assert response.status_code == 207
    assert response.content == image
    assert response.headers.get_list("content-length") == [str(len(image))]
    assert response.headers["content-type"] == "image/png"
    assert response.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert (
        response.headers.raw[[name for name, _ in response.headers.raw].index(b"x-city")][1].decode()
        == "東京"
    )
    assert response.headers["x-count"] == "3"


def test_correlation_id_is_the_requests_else_the_handlers_else_the_request_id(serve: Serve) -> None:
    answered = {"statusCode": 200, "body": "", "headers": {"X-Correlation-Id": "minted-by-handler"}}
    client, _, _ = serve(Echo=lambda event: answered)
    given = client.get("/files/x", headers={"X-Correlation-Id": "order-123"})
    assert given.headers.get_list("x-correlation-id") == ["order-123"]
    invalid = client.get("/files/x", headers={"X-Correlation-Id": "not valid!"})
    assert invalid.headers["x-correlation-id"] == "minted-by-handler"
    refused = client.get("/nowhere")
    assert refused.headers["x-correlation-id"] == refused.headers["x-amzn-requestid"]


def test_two_slow_invocations_overlap(serve: Serve) -> None:
    def slow(event: dict[str, Any]) -> dict[str, Any]:
        time.sleep(0.4)
        return {"statusCode": 200, "body": "done"}

    _, invoker, front = serve(Slow=slow)
    statuses: list[int] = []

    def call() -> None:
        with httpx.Client(base_url=front.url, timeout=10) as own:
            statuses.append(own.get("/slow").status_code)

    threads = [threading.Thread(target=call) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert statuses == [200, 200]
    first, second = invoker.calls
    assert first.started < second.ended and second.started < first.ended  # the two ran at the same time


@pytest.mark.parametrize(
    ("path", "function", "front_timeout_s"),
    [("/files/x", "Echo", 0.2), ("/slow", "Slow", 29.0)],
    ids=["front-default", "route-timeoutInMillis"],
)
def test_an_integration_slower_than_its_timeout_is_a_504(
    serve: Serve, path: str, function: str, front_timeout_s: float
) -> None:
    release = threading.Event()

    def stuck(event: dict[str, Any]) -> dict[str, Any]:
        release.wait(timeout=5)
        return {"statusCode": 200, "body": "late"}

    client, _, _ = serve(**{function: stuck}, integration_timeout_s=front_timeout_s)
    try:
        response = client.get(path)  # the function is released only after this answer arrives
    finally:
        release.set()
    assert response.status_code == 504
    assert response.json() == {"message": "Endpoint request timed out"}


def test_api_gateway_metrics_count_requests_and_errors(serve: Serve) -> None:
    client, _, front = serve(Slow=_raise)
    client.get("/items/1")
    client.get("/nowhere")
    client.get("/slow")
    data = front.drain_metrics()
    assert {datum.namespace for datum in data} == {"AWS/ApiGateway"}
    assert {datum.dimensions for datum in data} == {(("ApiName", "apifront-test"), ("Stage", STAGE))}
    totals: dict[str, float] = {}
    for datum in data:
        totals[datum.name] = totals.get(datum.name, 0.0) + datum.value
    assert totals["Count"] == 3
    assert totals["4XXError"] == 1
    assert totals["5XXError"] == 1
    assert len([datum for datum in data if datum.name == "IntegrationLatency"]) == 2  # not for the 403
    assert front.drain_metrics() == []
