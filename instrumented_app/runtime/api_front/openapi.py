"""An API's OpenAPI body -> the route table, reading what API Gateway reads.

SAM turns ``Api`` events into a swagger 2.0 body with
``x-amazon-apigateway-integration`` per method, request validators in
``x-amazon-apigateway-request-validators`` and models in ``definitions``; a
hand-written ``DefinitionBody`` may be OpenAPI 3 (``requestBody``,
``components.schemas``). Both are read here. Anything that cannot be served
(an integration type other than ``aws_proxy`` or ``mock``, an unresolvable
URI, a broken model) raises ``ApiDefinitionError`` naming the method and path,
so a mistake shows at startup instead of as a 500 later.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from instrumented_app.runtime.api_front.routes import (
    ANY_METHOD,
    HTTP_METHODS,
    ApiDefinitionError,
    Integration,
    LambdaTarget,
    MockResponse,
    Route,
    RouteTable,
)
from instrumented_app.runtime.api_front.validation import (
    InvalidModelError,
    ParameterLocation,
    ParameterRule,
    RequestValidator,
)

log = logging.getLogger(__name__)

Resolver = Callable[[Any], Any]

_ANY_KEY = "x-amazon-apigateway-any-method"
_LOCATIONS: dict[str, ParameterLocation] = {"path": "path", "query": "querystring", "header": "header"}
_INVOCATION_URI = re.compile(
    r"^arn:aws[a-z-]*:apigateway:[^:]+:lambda:path/2015-03-31/functions/(?P<function>.+)/invocations$"
)
_FUNCTION_ARN = re.compile(
    r"^arn:aws[a-z-]*:lambda:(?P<region>[^:]+):(?P<account>\d+):function:(?P<name>[^:]+)(?::(?P<qualifier>[^:]+))?$"
)
_STATIC_HEADER = re.compile(r"^method\.response\.header\.(?P<name>.+)$")
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
DEFAULT_ACCOUNT_ID = "123456789012"


def table_from_openapi(
    body: Mapping[str, Any],
    resolve: Resolver,
    stage: str,
    *,
    api_id: str = "localapi01",
    account_id: str | None = None,
) -> RouteTable:
    """See ``RouteTable.from_openapi``."""
    if not isinstance(body.get("paths"), dict):
        raise ApiDefinitionError("the API body has no 'paths' object")
    validators = body.get("x-amazon-apigateway-request-validators", {})
    default_validator = body.get("x-amazon-apigateway-request-validator")
    routes: list[Route] = []
    for resource, item in body["paths"].items():
        if not isinstance(item, dict):
            raise ApiDefinitionError(f"{resource}: a path item must be an object")
        shared_parameters = item.get("parameters", [])
        for key, operation in item.items():
            method = ANY_METHOD if key == _ANY_KEY else key.upper()
            if method not in (*HTTP_METHODS, ANY_METHOD):
                continue
            where = f"{method} {resource}"
            if not isinstance(operation, dict):
                raise ApiDefinitionError(f"{where}: an operation must be an object")
            if operation.get("security", body.get("security")):
                # Authorizers and API keys are not run locally; saying so beats silently allowing.
                log.warning("%s declares security (authorizer or API key): not enforced locally", where)
            try:
                routes.append(
                    Route(
                        resource=resource,
                        method=method,
                        integration=_integration(operation, resolve),
                        validator=_validator(
                            operation, shared_parameters, body, validators, default_validator
                        ),
                    )
                )
            except (ApiDefinitionError, InvalidModelError) as exc:
                raise ApiDefinitionError(f"{where}: {exc}") from exc
    title = resolve(body.get("info", {}).get("title", "local-api"))
    return RouteTable(
        routes=tuple(routes),
        stage=stage,
        api_name=str(title),
        api_id=api_id,
        account_id=account_id or _account_of(routes),
        binary_media_types=tuple(body.get("x-amazon-apigateway-binary-media-types", ())),
    )


def _integration(operation: Mapping[str, Any], resolve: Resolver) -> Integration:
    spec = operation.get("x-amazon-apigateway-integration")
    if not isinstance(spec, dict):
        raise ApiDefinitionError("no x-amazon-apigateway-integration")
    kind = str(spec.get("type", "")).lower()
    if kind == "aws_proxy":
        return lambda_target(resolve(spec.get("uri")), _timeout_s(resolve(spec.get("timeoutInMillis"))))
    if kind == "mock":
        return mock_response(spec)
    raise ApiDefinitionError(f"integration type {spec.get('type')!r} is not served locally (aws_proxy, mock)")


def _timeout_s(millis: Any) -> float | None:
    """``timeoutInMillis`` -> seconds; API Gateway accepts 50 ms and up."""
    if millis is None:
        return None
    if isinstance(millis, bool) or not isinstance(millis, int | str) or not str(millis).isdigit():
        raise ApiDefinitionError(f"timeoutInMillis {millis!r} is not a whole number of milliseconds")
    if int(millis) < 50:
        raise ApiDefinitionError(f"timeoutInMillis {millis}: API Gateway's minimum is 50")
    return int(millis) / 1000


def lambda_target(uri: Any, timeout_s: float | None = None) -> LambdaTarget:
    """``arn:aws:apigateway:R:lambda:path/2015-03-31/functions/<function ARN[:qualifier]>/invocations``."""
    if not isinstance(uri, str):
        raise ApiDefinitionError(f"integration uri did not resolve to a string: {uri!r}")
    invocation = _INVOCATION_URI.match(uri)
    function = _FUNCTION_ARN.match(invocation.group("function")) if invocation else None
    if function is None:
        raise ApiDefinitionError(f"integration uri {uri!r} is not a Lambda invocation URI")
    qualifier = function.group("qualifier")
    arn = invocation.group("function") if invocation else ""
    unqualified = arn[: -len(qualifier) - 1] if qualifier else arn
    return LambdaTarget(function.group("name"), qualifier, unqualified, timeout_s)


def mock_response(spec: Mapping[str, Any]) -> MockResponse:
    """The response a mock integration gives: the integration response its request template selects.

    The request template (``{"statusCode": 200}``) picks the integration response whose
    selection pattern matches that code, else ``default``. Templates are returned as
    written: VTL is not evaluated locally.
    """
    responses = spec.get("responses", {})
    selected = _select_mock_response(spec.get("requestTemplates", {}), responses)
    if selected is None:
        raise ApiDefinitionError("mock integration has no responses.default to answer with")
    templates: dict[str, str] = selected.get("responseTemplates", {}) or {}
    content_type = (
        "application/json" if "application/json" in templates or not templates else next(iter(templates))
    )
    headers = []
    for target, source in (selected.get("responseParameters", {}) or {}).items():
        header = _STATIC_HEADER.match(target)
        if header and isinstance(source, str) and len(source) >= 2 and source[0] == source[-1] == "'":
            if not _HEADER_NAME.match(header.group("name")):
                raise ApiDefinitionError(
                    f"mock response header {header.group('name')!r} is not a header name"
                )
            headers.append((header.group("name"), source[1:-1]))
    try:
        status = int(selected.get("statusCode", 200))
    except (TypeError, ValueError) as exc:
        raise ApiDefinitionError(f"mock statusCode {selected.get('statusCode')!r} is not a number") from exc
    return MockResponse(
        status_code=status,
        body=templates.get(content_type, ""),
        content_type=content_type,
        headers=tuple(headers),
    )


def _select_mock_response(
    request_templates: Mapping[str, Any], responses: Mapping[str, Any]
) -> Mapping[str, Any] | None:
    template = request_templates.get("application/json")
    code: str | None = None
    if isinstance(template, str):
        try:
            parsed = json.loads(template)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict) and "statusCode" in parsed:
            code = str(parsed["statusCode"])
    if code is not None:
        for pattern, response in responses.items():
            try:
                selected = pattern != "default" and re.fullmatch(pattern, code)
            except re.error as exc:
                raise ApiDefinitionError(f"mock selection pattern {pattern!r} is not a regex: {exc}") from exc
            if selected:
                return dict(response)
    default = responses.get("default")
    return dict(default) if isinstance(default, dict) else None


def _validator(
    operation: Mapping[str, Any],
    shared_parameters: list[Any],
    body: Mapping[str, Any],
    validators: Mapping[str, Any],
    default_validator: str | None,
) -> RequestValidator:
    name = operation.get("x-amazon-apigateway-request-validator", default_validator)
    if name is None:
        return RequestValidator()
    settings = validators.get(name)
    if not isinstance(settings, dict):
        raise ApiDefinitionError(f"request validator {name!r} is not declared")
    parameters = _merged_parameters(shared_parameters, operation.get("parameters", []), body)
    rules = [
        ParameterRule(_LOCATIONS[parameter["in"]], str(parameter["name"]))
        for parameter in parameters
        if parameter.get("in") in _LOCATIONS and parameter.get("required")
    ]
    return RequestValidator.build(
        required_parameters=rules,
        validate_parameters=bool(settings.get("validateRequestParameters")),
        body_schemas=_body_schemas(operation, parameters, body),
        schema_root=body,
        validate_body=bool(settings.get("validateRequestBody")),
    )


def _merged_parameters(shared: list[Any], own: list[Any], body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Path-level parameters overridden by operation-level ones of the same ``in`` and ``name``."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for parameter in [*shared, *own]:
        resolved = _deref(parameter, body)
        merged[(str(resolved.get("in")), str(resolved.get("name")))] = resolved
    return list(merged.values())


def _deref(node: Any, body: Mapping[str, Any]) -> dict[str, Any]:
    """Follow one local ``$ref`` (``#/parameters/x``, ``#/components/parameters/x``)."""
    if isinstance(node, dict) and isinstance(node.get("$ref"), str) and node["$ref"].startswith("#/"):
        target: Any = body
        for part in node["$ref"][2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        return dict(target)
    return dict(node) if isinstance(node, dict) else {}


def _body_schemas(
    operation: Mapping[str, Any], parameters: list[dict[str, Any]], body: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    """Media type -> model: swagger 2.0's body schema per ``consumes`` type, or OpenAPI 3's content."""
    for parameter in parameters:  # swagger 2.0
        if parameter.get("in") == "body" and isinstance(parameter.get("schema"), dict):
            consumes = operation.get("consumes") or body.get("consumes") or ["application/json"]
            return {str(media_type): dict(parameter["schema"]) for media_type in consumes}
    content = operation.get("requestBody", {}).get("content", {})  # OpenAPI 3
    return {
        str(media_type): dict(media["schema"])
        for media_type, media in content.items()
        if isinstance(media, dict) and isinstance(media.get("schema"), dict)
    }


def _account_of(routes: list[Route]) -> str:
    for route in routes:
        if isinstance(route.integration, LambdaTarget):
            found = _FUNCTION_ARN.match(route.integration.function_arn)
            if found:
                return found.group("account")
    return DEFAULT_ACCOUNT_ID
