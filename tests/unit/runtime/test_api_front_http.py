"""The API front over real HTTP: what a client of API Gateway sees, and what the function receives."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventModel

from instrumented_app.runtime.api_front import ApiFront, RouteTable
from tests.unit.runtime.test_api_front_helpers import STAGE, FakeInvoker, Handler, route_table

Serve = Callable[..., tuple[httpx.Client, FakeInvoker, ApiFront]]


def items_handler() -> Handler:
    """A real Powertools REST resolver: it must route the events the front builds."""
    app = APIGatewayRestResolver()

    @app.get("/items/<item_id>")
    def get_item(item_id: str) -> dict[str, Any]:
        return {"id": item_id, "verbose": app.current_event.get_query_string_value("verbose")}

    @app.get("/items")
    def list_items() -> dict[str, Any]:
        return {"tags": app.current_event.multi_value_query_string_parameters.get("tag", [])}

    @app.get("/search")
    def search() -> dict[str, Any]:
        return {"q": app.current_event.get_query_string_value("q")}

    return lambda event: app.resolve(event, None)


def echo(event: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": 200, "body": json.dumps(event)}


def customers(event: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": 201, "body": event["body"], "headers": {"Content-Type": "application/json"}}


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> RouteTable:
    return route_table(tmp_path_factory.mktemp("api"))


@pytest.fixture
def serve(table: RouteTable) -> Iterator[Serve]:
    """Start an ApiFront over a fake invoker with the given handlers; stopped after the test."""
    started: list[tuple[httpx.Client, ApiFront]] = []

    def start(**overrides: Any) -> tuple[httpx.Client, FakeInvoker, ApiFront]:
        timeout_s = overrides.pop("integration_timeout_s", 29.0)
        max_body_bytes = overrides.pop("max_body_bytes", 10 * 1024 * 1024)
        handlers: dict[str, Handler] = {
            "Items": items_handler(),
            "Echo": echo,
            "Customers": customers,
            "Slow": lambda event: {"statusCode": 200, "body": "slow"},
        }
        handlers.update(overrides)
        invoker = FakeInvoker(handlers)
        front = ApiFront(table, invoker, integration_timeout_s=timeout_s, max_body_bytes=max_body_bytes)
        client = httpx.Client(base_url=front.start(), timeout=10)
        started.append((client, front))
        return client, invoker, front

    yield start
    for client, front in started:
        client.close()
        front.stop()


def test_the_url_is_loopback_and_exact(serve: Serve) -> None:
    client, _, front = serve()
    assert front.url.startswith("http://127.0.0.1:")
    assert client.get("/items").status_code == 200


def test_path_parameters_reach_a_powertools_resolver(serve: Serve) -> None:
    client, invoker, _ = serve()
    response = client.get("/items/42", params={"verbose": "yes"})
    assert response.status_code == 200
    assert response.json() == {"id": "42", "verbose": "yes"}
    assert [call.event["pathParameters"] for call in invoker.calls] == [{"id": "42"}]


def test_the_stage_prefixed_url_is_the_same_route(serve: Serve) -> None:
    client, invoker, _ = serve()
    response = client.get(f"/{STAGE}/items/7")
    assert response.json() == {"id": "7", "verbose": None}
    event = invoker.calls[0].event
    assert event["path"] == "/items/7"
    assert event["requestContext"]["path"] == f"/{STAGE}/items/7"
    assert event["requestContext"]["stage"] == STAGE


def test_the_event_is_an_api_gateway_rest_proxy_event(serve: Serve) -> None:
    client, _, _ = serve()
    before_ms = time.time() * 1000
    response = client.put(
        "/files/reports/2026/q3%20final.csv",
        params=[("x", "1"), ("x", "2"), ("only", "one")],
        headers=[("X-Multi", "a"), ("X-Multi", "b"), ("Content-Type", "text/csv")],
        content=b"id,total\n1,10\n",
    )
    event = response.json()
    APIGatewayProxyEventModel.model_validate(event)  # Powertools' parser model accepts it as is
    assert event["resource"] == "/files/{proxy+}"
    assert event["httpMethod"] == "PUT"
    assert event["pathParameters"] == {"proxy": "reports/2026/q3 final.csv"}
    assert event["queryStringParameters"] == {"x": "2", "only": "one"}
    assert event["multiValueQueryStringParameters"] == {"x": ["1", "2"], "only": ["one"]}
    assert event["multiValueHeaders"]["x-multi"] == ["a", "b"]
    assert event["headers"]["x-multi"] == "b"
    assert event["body"] == "id,total\n1,10\n"
    assert event["isBase64Encoded"] is False
    assert event["stageVariables"] is None
    context = event["requestContext"]
    assert context["resourcePath"] == "/files/{proxy+}"
    assert context["httpMethod"] == "PUT"
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["requestId"] == response.headers["x-amzn-RequestId"]
    assert before_ms - 1000 <= context["requestTimeEpoch"] <= time.time() * 1000 + 1000
    assert context["protocol"] == "HTTP/1.1"


def test_a_request_without_query_or_body_has_null_maps(serve: Serve) -> None:
    client, _, _ = serve()
    event = client.get("/files/a").json()
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["body"] is None


def test_binary_media_types_arrive_base64_and_text_stays_text(serve: Serve) -> None:
    client, _, _ = serve()
    png = b"\x89PNG\r\n\x1a\n\x00\x01binary"
    event = client.post("/upload", content=png, headers={"Content-Type": "image/png"}).json()
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == png
    event = client.post("/upload", json={"a": 1}).json()
    assert event["isBase64Encoded"] is False
    assert json.loads(event["body"]) == {"a": 1}


def test_a_body_missing_a_required_field_is_refused_without_invoking(serve: Serve) -> None:
    client, invoker, _ = serve()
    response = client.post("/customers", json={"email": "taro@example.com"})
    assert response.status_code == 400
    assert response.json() == {
        "message": "Invalid request body",
        "errors": [{"field": "cust_no", "problem": "is a required property"}],
    }
    assert invoker.calls == []


def test_a_body_violating_the_model_names_fields_but_never_echoes_values(serve: Serve) -> None:
    client, invoker, _ = serve()
    response = client.post("/customers", json={"cust_no": "ab-12", "email": "a@", "tags": ["ok", 5]})
    assert response.status_code == 400
    errors = {error["field"]: error["problem"] for error in response.json()["errors"]}
    assert set(errors) == {"cust_no", "email", "tags[1]"}
    assert errors["cust_no"] == "does not match the pattern ^[0-9]+$"
    assert errors["email"] == "is too short"
    assert errors["tags[1]"] == 'is not of type "string"'
    assert "ab-12" not in response.text and "a@" not in response.text
    assert invoker.calls == []


def test_malformed_json_is_refused_without_invoking(serve: Serve) -> None:
    client, invoker, _ = serve()
    response = client.post(
        "/customers", content=b'{"cust_no": "1",', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "body"
    assert "not valid JSON" in response.json()["errors"][0]["problem"]
    assert invoker.calls == []


def test_a_body_sent_as_another_media_type_is_not_validated_as_on_api_gateway(serve: Serve) -> None:
    client, invoker, _ = serve()
    response = client.post("/customers", content=b"cust_no missing", headers={"Content-Type": "text/plain"})
    assert response.status_code == 201  # the model is for application/json only: passed through
    assert len(invoker.calls) == 1


def test_a_valid_body_reaches_the_alias_named_in_the_integration_uri(serve: Serve) -> None:
    client, invoker, _ = serve()
    response = client.post("/customers", json={"cust_no": "1001", "email": "taro@example.com"})
    assert response.status_code == 201
    assert response.json() == {"cust_no": "1001", "email": "taro@example.com"}
    assert [(call.function_name, call.qualifier) for call in invoker.calls] == [("Customers", "live")]


def test_missing_required_header_or_query_is_refused_without_invoking(serve: Serve) -> None:
    client, invoker, _ = serve()
    no_header = client.get("/search", params={"q": "tea"})
    assert no_header.status_code == 400
    assert no_header.json()["message"] == "Missing required request parameters: [X-Tenant]"
    assert no_header.json()["errors"] == [{"field": "X-Tenant", "problem": "is a required header"}]
    blank_query = client.get("/search", params={"q": " "}, headers={"X-Tenant": "t1"})
    assert blank_query.status_code == 400
    assert blank_query.json()["errors"] == [{"field": "q", "problem": "is a required query string parameter"}]
    assert invoker.calls == []
    complete = client.get("/search", params={"q": "tea"}, headers={"x-tenant": "t1"})
    assert complete.status_code == 200
    assert complete.json() == {"q": "tea"}
    assert len(invoker.calls) == 1


def test_a_mock_route_answers_its_fixed_response_with_no_backend(serve: Serve) -> None:
    client, invoker, _ = serve()
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "backend": "none"}
    assert response.headers["X-Mock"] == "yes"
    assert invoker.calls == []


def test_a_cors_preflight_is_answered_by_the_mock_sam_generates(serve: Serve) -> None:
    client, invoker, _ = serve()
    response = client.options("/items/42", headers={"Origin": "https://ops.example.com"})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "https://ops.example.com"
    assert response.headers["access-control-allow-methods"] == "GET,POST"
    assert invoker.calls == []


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/nowhere"), ("DELETE", "/items"), ("POST", "/items/42"), ("GET", "/files")],
)
def test_undeclared_routes_get_missing_authentication_token(serve: Serve, method: str, path: str) -> None:
    client, invoker, _ = serve()
    response = client.request(method, path)
    assert response.status_code == 403
    assert response.json() == {"message": "Missing Authentication Token"}
    assert invoker.calls == []


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


def test_an_integration_slower_than_the_timeout_is_a_504(serve: Serve) -> None:
    release = threading.Event()

    def stuck(event: dict[str, Any]) -> dict[str, Any]:
        release.wait(timeout=5)
        return {"statusCode": 200, "body": "late"}

    client, _, _ = serve(Slow=stuck, integration_timeout_s=0.2)
    try:
        response = client.get("/slow")
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
