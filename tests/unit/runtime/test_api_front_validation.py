"""Request validators, as API Gateway applies them: which checks run, and what a refusal says."""

from __future__ import annotations

import json
from typing import Any

from instrumented_app.runtime.api_front import RouteTable
from instrumented_app.runtime.api_front.validation import RequestParts

CUSTOMER = {
    "type": "object",
    "required": ["cust_no", "address"],
    "properties": {
        "cust_no": {"type": "string"},
        "address": {"$ref": "#/definitions/address"},
    },
}
ADDRESS = {"type": "object", "required": ["zip"], "properties": {"zip": {"type": "string", "maxLength": 8}}}
INTEGRATION = {
    "type": "aws_proxy",
    "uri": "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
    "arn:aws:lambda:us-east-1:123456789012:function:F/invocations",
}


def parts(
    body: Any = None, headers: dict[str, str] | None = None, query: dict[str, str] | None = None
) -> RequestParts:
    raw = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    return RequestParts(
        headers={key.lower(): [value] for key, value in (headers or {}).items()},
        query={key: [value] for key, value in (query or {}).items()},
        path_parameters={},
        body=raw,
    )


def swagger_route(validator: str | None, default: str | None = None) -> Any:
    operation: dict[str, Any] = {
        "x-amazon-apigateway-integration": INTEGRATION,
        "parameters": [
            {
                "in": "body",
                "name": "customer",
                "required": True,
                "schema": {"$ref": "#/definitions/customer"},
            },
            {"in": "header", "name": "X-Tenant", "required": True, "type": "string"},
            {"in": "query", "name": "dry_run", "required": False, "type": "string"},
        ],
    }
    if validator:
        operation["x-amazon-apigateway-request-validator"] = validator
    body: dict[str, Any] = {
        "swagger": "2.0",
        "info": {"title": "t"},
        "paths": {"/customers": {"post": operation}},
        "definitions": {"customer": CUSTOMER, "address": ADDRESS},
        "x-amazon-apigateway-request-validators": {
            "all": {"validateRequestBody": True, "validateRequestParameters": True},
            "body-only": {"validateRequestBody": True, "validateRequestParameters": False},
            "params-only": {"validateRequestBody": False, "validateRequestParameters": True},
        },
    }
    if default:
        body["x-amazon-apigateway-request-validator"] = default
    return RouteTable.from_openapi(body, lambda value: value, "prod").match("POST", "/customers").route  # type: ignore[union-attr]


GOOD = {"cust_no": "1", "address": {"zip": "100-0001"}}


def test_without_a_validator_nothing_is_checked_even_required_parameters() -> None:
    assert swagger_route(None).validator.check(parts(b"not json")) is None


def test_the_api_wide_default_validator_applies_when_the_method_names_none() -> None:
    failure = swagger_route(None, default="all").validator.check(parts(GOOD))
    assert failure is not None
    assert failure.message == "Missing required request parameters: [X-Tenant]"


def test_parameters_are_checked_before_the_body() -> None:
    failure = swagger_route("all").validator.check(parts(b"{"))
    assert failure is not None and failure.message.startswith("Missing required request parameters")
    assert swagger_route("all").validator.check(parts(GOOD, headers={"X-Tenant": "t"})) is None


def test_a_body_only_validator_ignores_missing_parameters_and_a_params_only_one_ignores_the_body() -> None:
    assert swagger_route("body-only").validator.check(parts(GOOD)) is None
    assert swagger_route("params-only").validator.check(parts(b"{", headers={"X-Tenant": "t"})) is None


def test_nested_models_are_followed_and_the_failing_field_named_by_its_path() -> None:
    route = swagger_route("body-only")
    failure = route.validator.check(parts({"cust_no": "1", "address": {"zip": "123456789"}}))
    assert failure is not None
    assert failure.as_body()["errors"] == [{"field": "address.zip", "problem": "is too long"}]
    missing = route.validator.check(parts({"cust_no": "1", "address": {}}))
    assert missing is not None
    assert missing.as_body()["errors"] == [{"field": "address.zip", "problem": "is a required property"}]


def test_an_empty_body_and_a_non_object_body_are_refused() -> None:
    route = swagger_route("body-only")
    empty = route.validator.check(parts(b""))
    assert empty is not None and empty.as_body()["errors"] == [{"field": "body", "problem": "is required"}]
    listed = route.validator.check(parts([1, 2]))
    assert listed is not None and listed.as_body()["errors"] == [
        {"field": "body", "problem": 'is not of type "object"'}
    ]


def test_openapi_3_request_bodies_and_component_schemas_are_validated() -> None:
    body = {
        "openapi": "3.0.1",
        "info": {"title": "t3"},
        "x-amazon-apigateway-request-validators": {"b": {"validateRequestBody": True}},
        "x-amazon-apigateway-request-validator": "b",
        "components": {"schemas": {"Order": {"type": "object", "required": ["sku"]}}},
        "paths": {
            "/orders": {
                "post": {
                    "x-amazon-apigateway-integration": INTEGRATION,
                    "requestBody": {
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Order"}}}
                    },
                }
            }
        },
    }
    route = RouteTable.from_openapi(body, lambda value: value, "prod").match("POST", "/orders").route  # type: ignore[union-attr]
    failure = route.validator.check(parts({"qty": 1}))
    assert failure is not None and failure.as_body()["errors"] == [
        {"field": "sku", "problem": "is a required property"}
    ]
    assert route.validator.check(parts({"sku": "A1"})) is None


def test_api_gateway_model_urls_resolve_to_the_apis_own_models() -> None:
    body = {
        "swagger": "2.0",
        "info": {"title": "t"},
        "x-amazon-apigateway-request-validators": {"b": {"validateRequestBody": True}},
        "definitions": {
            "order": {
                "type": "object",
                "properties": {
                    "line": {"$ref": "https://apigateway.amazonaws.com/restapis/abc123/models/line"},
                },
            },
            "line": {"type": "object", "required": ["qty"]},
        },
        "paths": {
            "/o": {
                "post": {
                    "x-amazon-apigateway-integration": INTEGRATION,
                    "x-amazon-apigateway-request-validator": "b",
                    "parameters": [{"in": "body", "name": "o", "schema": {"$ref": "#/definitions/order"}}],
                }
            }
        },
    }
    route = RouteTable.from_openapi(body, lambda value: value, "prod").match("POST", "/o").route  # type: ignore[union-attr]
    failure = route.validator.check(parts({"line": {}}))
    assert failure is not None and failure.as_body()["errors"] == [
        {"field": "line.qty", "problem": "is a required property"}
    ]


def _with_content_type(content_type: str, body: Any) -> RequestParts:
    request = parts(body)
    return RequestParts(
        {"content-type": [content_type]}, request.query, request.path_parameters, request.body
    )


def test_the_content_type_picks_the_model_and_an_unmodelled_one_passes_through() -> None:
    route = swagger_route("body-only")
    assert route.validator.check(_with_content_type("application/json; charset=utf-8", {})) is not None
    # API Gateway's documented behaviour for proxy integrations: no model for the media type, no check.
    assert route.validator.check(_with_content_type("text/plain", {})) is None


def test_a_default_model_catches_every_other_content_type() -> None:
    body = {
        "openapi": "3.0.1",
        "info": {"title": "t"},
        "x-amazon-apigateway-request-validators": {"b": {"validateRequestBody": True}},
        "paths": {
            "/p": {
                "put": {
                    "x-amazon-apigateway-integration": INTEGRATION,
                    "x-amazon-apigateway-request-validator": "b",
                    "requestBody": {
                        "content": {"$default": {"schema": {"type": "object", "required": ["id"]}}}
                    },
                }
            }
        },
    }
    route = RouteTable.from_openapi(body, lambda value: value, "prod").match("PUT", "/p").route  # type: ignore[union-attr]
    failure = route.validator.check(_with_content_type("text/plain", {"name": "x"}))
    assert failure is not None and failure.as_body()["errors"] == [
        {"field": "id", "problem": "is a required property"}
    ]
