"""The API front over real HTTP: routing, the proxy event a function receives, validation, mocks."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator

import pytest
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventModel

from instrumented_app.runtime.api_front import RouteTable
from tests.unit.runtime.test_api_front_helpers import STAGE, Serve, route_table, serving


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> RouteTable:
    return route_table(tmp_path_factory.mktemp("api"))


@pytest.fixture
def serve(table: RouteTable) -> Iterator[Serve]:
    with serving(table) as start:
        yield start


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
    assert event["stageVariables"] == {"backend": "blue"}
    context = event["requestContext"]
    assert context["resourcePath"] == "/files/{proxy+}"
    assert (context["apiId"], context["accountId"], context["stage"]) == ("a1b2c3d4e5", "123456789012", STAGE)
    assert context["httpMethod"] == "PUT"
    assert context["identity"]["sourceIp"] == "127.0.0.1"
    assert context["requestId"] == response.headers["x-amzn-RequestId"]
    assert before_ms - 1000 <= context["requestTimeEpoch"] <= time.time() * 1000 + 1000
    assert context["protocol"] == "HTTP/1.1"


def test_path_parameters_are_decoded_and_the_path_is_kept_as_sent(serve: Serve) -> None:
    client, invoker, _ = serve()
    response = client.get("/items/a%2Fb%20c")
    # Powertools matches on ``path``, which REST APIs deliver percent-encoded: the handler sees it so.
    assert response.json() == {"id": "a%2Fb%20c", "verbose": None}
    event = invoker.calls[0].event
    assert event["pathParameters"] == {"id": "a/b c"}
    assert event["path"] == "/items/a%2Fb%20c"
    assert event["requestContext"]["path"] == f"/{STAGE}/items/a%2Fb%20c"


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
