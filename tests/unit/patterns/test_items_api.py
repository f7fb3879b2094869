"""``/items`` through Powertools' REST resolver on real DynamoDB tables (moto over HTTP)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from instrumented_app.items.api import ItemsService, register_routes
from instrumented_app.items.projection import ReadModel
from instrumented_app.items.store import ItemsTable
from instrumented_app.items.tokens import encode_token
from tests.unit.patterns.data_aws import items_table, moto_dynamodb, read_model_table


class Context:
    function_name = "sw-items"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:sw-items"
    aws_request_id = "req-1"


class Clock:
    """Starts on 2026-03-01 and moves as the test says."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now


class Api:
    def __init__(self, dynamodb: Any) -> None:
        self.clock = Clock()
        self.app = APIGatewayRestResolver(enable_validation=True)
        service = ItemsService(
            table=ItemsTable(items_table(dynamodb), dynamodb),
            read_model=ReadModel(read_model_table(dynamodb), dynamodb),
            clock=self.clock,
        )
        register_routes(self.app, lambda: service)

    def call(
        self, method: str, path: str, body: Any = None, query: dict[str, str] | None = None
    ) -> tuple[int, Any, dict[str, str]]:
        text = body if isinstance(body, str) or body is None else json.dumps(body)
        event = {
            "resource": path,
            "path": path,
            "httpMethod": method,
            "headers": {"content-type": "application/json"},
            "multiValueHeaders": {},
            "queryStringParameters": query,
            "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
            "pathParameters": None,
            "requestContext": {"stage": "v1", "httpMethod": method, "requestId": "req-1"},
            "body": text,
            "isBase64Encoded": False,
        }
        answer = self.app.resolve(event, cast(Any, Context()))
        payload = json.loads(answer["body"]) if answer.get("body") else None
        headers = {**(answer.get("headers") or {})}
        headers.update({name: values[0] for name, values in (answer.get("multiValueHeaders") or {}).items()})
        return answer["statusCode"], payload, headers

    def create(self, category: str = "tools", **fields: Any) -> dict[str, Any]:
        status, body, _ = self.call(
            "POST",
            "/items",
            {"name": "hammer", "category": category, "price": "12.30", "quantity": 2, **fields},
        )
        assert status == 201, body
        return dict(body)


@pytest.fixture(scope="module")
def dynamodb() -> Iterator[Any]:
    with moto_dynamodb() as client:
        yield client


@pytest.fixture
def api(dynamodb: Any) -> Api:
    return Api(dynamodb)


def test_an_item_is_created_read_back_with_exact_numbers_and_deleted(api: Api) -> None:
    status, created, headers = api.call(
        "POST", "/items", {"name": "saw", "category": "tools", "price": 1234567890.99, "quantity": 3}
    )
    assert status == 201
    assert headers["Location"] == f"/items/{created['item_id']}"
    assert created["price"] == 1234567890.99 and created["quantity"] == 3 and created["version"] == 1
    status, read, _ = api.call("GET", headers["Location"])
    assert status == 200 and read == created
    assert api.call("DELETE", headers["Location"])[0] == 204
    status, gone, _ = api.call("GET", headers["Location"])
    assert status == 404 and gone["item_id"] == created["item_id"]
    assert api.call("DELETE", headers["Location"])[0] == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"category": "tools", "price": 1}, "name"),
        ({"name": "x", "category": "Tools!", "price": 1}, "category"),
        ({"name": "x", "category": "tools", "price": "1.234"}, "price"),
        ({"name": "x", "category": "tools", "price": -5}, "price"),
        ({"name": "x", "category": "tools", "price": 1, "quantity": "many"}, "quantity"),
        ({"name": "x", "category": "tools", "price": 1, "colour": "red"}, "colour"),
    ],
)
def test_a_bad_item_gets_400_naming_the_field_and_nothing_is_stored(
    api: Api, body: dict[str, Any], field: str
) -> None:
    status, answer, _ = api.call("POST", "/items", body)
    assert status == 400
    assert [error["field"] for error in answer["errors"]] == [field]
    assert api.call("GET", "/items", query={"category": "tools"})[1]["items"] == []


def test_a_body_that_is_not_json_gets_400(api: Api) -> None:
    status, answer, _ = api.call("POST", "/items", "{not json")
    assert status == 400 and answer["errors"]


def test_listing_pages_through_one_category_in_creation_order_within_the_dates(api: Api) -> None:
    made = []
    for day in range(5):
        api.clock.now = datetime(2026, 3, 1 + day, 12, 0, tzinfo=UTC)
        made.append(api.create()["item_id"])
        api.create(category="garden")
    pages, seen, token = 0, [], None
    while True:
        query = {"category": "tools", "from": "2026-03-02", "to": "2026-03-04", "limit": "2"}
        status, page, _ = api.call(
            "GET", "/items", query={**query, **({"next_token": token} if token else {})}
        )
        assert status == 200, page
        seen += [item["item_id"] for item in page["items"]]
        pages, token = pages + 1, page["next_token"]
        if token is None or pages > 5:
            break
    assert seen == made[1:4]
    assert pages == 2


@pytest.mark.parametrize(
    "token",
    [
        "not base64 at all!",
        encode_token({"item_id": {"S": "x"}}),
        encode_token({"item_id": {"S": "x"}, "category": {"S": "garden"}, "created_at": {"S": "2026"}}),
        encode_token({"item_id": {"N": "1"}, "category": {"S": "tools"}, "created_at": {"S": "2026"}}),
    ],
    ids=["garbage", "missing-keys", "other-category", "wrong-type"],
)
def test_a_tampered_token_gets_400_naming_next_token(api: Api, token: str) -> None:
    api.create()
    status, answer, _ = api.call("GET", "/items", query={"category": "tools", "next_token": token})
    assert status == 400
    assert answer["errors"][0]["field"] == "next_token"


def test_a_listing_without_a_category_or_with_reversed_dates_gets_400(api: Api) -> None:
    assert api.call("GET", "/items")[1]["errors"][0]["field"] == "category"
    status, answer, _ = api.call(
        "GET", "/items", query={"category": "tools", "from": "2026-03-05", "to": "2026-03-01"}
    )
    assert status == 400 and "after" in answer["errors"][0]["problem"]


def test_a_stale_update_is_refused_with_the_current_version_and_changes_nothing(api: Api) -> None:
    item = api.create()
    path = f"/items/{item['item_id']}"
    status, updated, _ = api.call("PUT", path, {"version": 1, "price": "15.00", "name": "big hammer"})
    assert status == 200
    assert (updated["version"], updated["price"], updated["name"]) == (2, 15, "big hammer")
    status, conflict, _ = api.call("PUT", path, {"version": 1, "price": "1.00"})
    assert status == 409
    assert (conflict["expected_version"], conflict["current_version"]) == (1, 2)
    assert api.call("GET", path)[1]["price"] == 15


def test_an_update_of_nothing_or_of_an_unknown_item_is_refused(api: Api) -> None:
    item = api.create()
    status, answer, _ = api.call("PUT", f"/items/{item['item_id']}", {"version": 1})
    assert status == 400 and "at least one" in answer["errors"][0]["problem"]
    assert api.call("PUT", "/items/nope", {"version": 1, "quantity": 1})[0] == 404
