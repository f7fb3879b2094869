"""Route tables from OpenAPI bodies: API Gateway's matching rules and its reading of integrations."""

from __future__ import annotations

from typing import Any

import pytest

from instrumented_app.runtime.api_front import (
    ApiDefinitionError,
    LambdaTarget,
    MockResponse,
    RouteTable,
    route_tables_from_template,
)
from instrumented_app.runtime.api_front.routes import split_path, strip_stage

ARN = "arn:aws:lambda:eu-west-1:210987654321:function:{name}"
URI = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/{function}/invocations"


def lambda_op(name: str, qualifier: str | None = None) -> dict[str, Any]:
    function = ARN.format(name=name) + (f":{qualifier}" if qualifier else "")
    return {"x-amazon-apigateway-integration": {"type": "aws_proxy", "uri": URI.format(function=function)}}


def table(paths: dict[str, Any], **extra: Any) -> RouteTable:
    body = {"swagger": "2.0", "info": {"title": "shop"}, "paths": paths, **extra}
    return RouteTable.from_openapi(body, lambda value: value, "v1")


def target_of(routes: RouteTable, method: str, path: str) -> tuple[str, str, dict[str, str]] | None:
    found = routes.match(method, path)
    if found is None:
        return None
    integration = found.route.integration
    assert isinstance(integration, LambdaTarget)
    return integration.function_name, found.route.resource, found.path_parameters


SHOP = {
    "/items": {"get": lambda_op("List"), "post": lambda_op("Create")},
    "/items/{id}": {"get": lambda_op("Get")},
    "/items/special": {"get": lambda_op("Special")},
    "/items/{id}/tags/{tag}": {"x-amazon-apigateway-any-method": lambda_op("Tags")},
    "/{proxy+}": {"x-amazon-apigateway-any-method": lambda_op("CatchAll")},
    "/": {"get": lambda_op("Root")},
}


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("GET", "/items", ("List", "/items", {})),
        ("post", "/items", ("Create", "/items", {})),
        ("GET", "/items/", ("List", "/items", {})),
        ("GET", "/items/42", ("Get", "/items/{id}", {"id": "42"})),
        ("GET", "/items/special", ("Special", "/items/special", {})),
        ("PATCH", "/items/9/tags/red", ("Tags", "/items/{id}/tags/{tag}", {"id": "9", "tag": "red"})),
        ("GET", "/items/a%2Fb", ("Get", "/items/{id}", {"id": "a/b"})),
        ("DELETE", "/orders/1/lines", ("CatchAll", "/{proxy+}", {"proxy": "orders/1/lines"})),
        ("GET", "/", ("Root", "/", {})),
    ],
)
def test_the_most_specific_resource_answers(method: str, path: str, expected: tuple[Any, ...]) -> None:
    assert target_of(table(SHOP), method, path) == expected


def test_a_resource_without_the_method_does_not_fall_back_to_a_greedy_one() -> None:
    assert table(SHOP).match("DELETE", "/items/42") is None


def test_an_explicit_method_wins_over_any_on_the_same_resource() -> None:
    routes = table({"/x": {"get": lambda_op("Exact"), "x-amazon-apigateway-any-method": lambda_op("Any")}})
    assert target_of(routes, "GET", "/x") == ("Exact", "/x", {})
    assert target_of(routes, "PUT", "/x") == ("Any", "/x", {})


def test_a_greedy_parameter_needs_at_least_one_segment() -> None:
    routes = table({"/files/{path+}": {"get": lambda_op("Files")}})
    assert routes.match("GET", "/files") is None
    assert target_of(routes, "GET", "/files/a/b") == ("Files", "/files/{path+}", {"path": "a/b"})


def test_the_qualifier_comes_from_the_function_arn_in_the_uri() -> None:
    routes = table(
        {
            "/a": {"get": lambda_op("Fn", "live")},
            "/b": {"get": lambda_op("Fn", "3")},
            "/c": {"get": lambda_op("Fn")},
        }
    )
    targets = {path: routes.match("GET", path).route.integration for path in ("/a", "/b", "/c")}  # type: ignore[union-attr]
    assert targets["/a"] == LambdaTarget("Fn", "live", ARN.format(name="Fn"))
    assert targets["/b"] == LambdaTarget("Fn", "3", ARN.format(name="Fn"))
    assert targets["/c"] == LambdaTarget("Fn", None, ARN.format(name="Fn"))
    assert routes.account_id == "210987654321"
    assert routes.api_name == "shop"


def test_intrinsics_in_the_uri_and_title_go_through_the_resolver() -> None:
    seen: list[Any] = []

    def resolve(value: Any) -> Any:
        seen.append(value)
        if isinstance(value, dict) and "Fn::Sub" in value:
            return URI.format(function=ARN.format(name="Resolved") + ":blue")
        return "stack-name" if isinstance(value, dict) else value

    sub = {
        "Fn::Sub": "arn:aws:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/${FnAliasblue}"
        "/invocations"
    }
    body = {
        "swagger": "2.0",
        "info": {"title": {"Ref": "AWS::StackName"}},
        "paths": {"/r": {"get": {"x-amazon-apigateway-integration": {"type": "aws_proxy", "uri": sub}}}},
    }
    routes = RouteTable.from_openapi(body, resolve, "prod")
    assert routes.match("GET", "/r").route.integration == LambdaTarget(  # type: ignore[union-attr]
        "Resolved", "blue", ARN.format(name="Resolved")
    )
    assert routes.api_name == "stack-name"
    assert sub in seen


def test_an_integrations_timeout_in_millis_becomes_the_routes_timeout() -> None:
    operation = lambda_op("Fn")
    operation["x-amazon-apigateway-integration"]["timeoutInMillis"] = 1500
    route = table({"/t": {"get": operation}}).match("GET", "/t")
    assert route is not None and route.route.integration == LambdaTarget(
        "Fn", None, ARN.format(name="Fn"), 1.5
    )


@pytest.mark.parametrize("millis", ["abc", 10, 2.5, True])
def test_a_bad_timeout_in_millis_is_refused(millis: Any) -> None:
    operation = lambda_op("Fn")
    operation["x-amazon-apigateway-integration"]["timeoutInMillis"] = millis
    with pytest.raises(ApiDefinitionError, match="GET /t: timeoutInMillis"):
        table({"/t": {"get": operation}})


def test_a_mock_integration_answers_the_response_its_template_selects() -> None:
    mock = {
        "x-amazon-apigateway-integration": {
            "type": "MOCK",
            "requestTemplates": {"application/json": '{"statusCode": 503}'},
            "responses": {
                "5\\d{2}": {"statusCode": "503", "responseTemplates": {"application/json": '{"down": true}'}},
                "default": {"statusCode": "200", "responseTemplates": {"application/json": "{}"}},
            },
        }
    }
    routes = table({"/maintenance": {"get": mock}})
    assert routes.match("GET", "/maintenance").route.integration == MockResponse(503, '{"down": true}')  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("paths", "named"),
    [
        (
            {"/h": {"get": {"x-amazon-apigateway-integration": {"type": "http_proxy", "uri": "http://x"}}}},
            "GET /h",
        ),
        ({"/n": {"post": {"responses": {}}}}, "POST /n: no x-amazon-apigateway-integration"),
        (
            {"/u": {"get": {"x-amazon-apigateway-integration": {"type": "aws_proxy", "uri": "nope"}}}},
            "GET /u",
        ),
        ({"/m": {"get": {"x-amazon-apigateway-integration": {"type": "mock", "responses": {}}}}}, "GET /m"),
        ({"/a/{p+}/b": {"get": lambda_op("F")}}, "GET /a/{p+}/b"),
        ({"/o": {"get": ["not", "an", "object"]}}, "GET /o: an operation must be an object"),
        (
            {
                "/r": {
                    "get": {
                        "x-amazon-apigateway-integration": {
                            "type": "mock",
                            "requestTemplates": {"application/json": '{"statusCode": 500}'},
                            "responses": {"5(": {"statusCode": "500"}, "default": {"statusCode": "200"}},
                        }
                    }
                }
            },
            "GET /r: mock selection pattern '5\\(' is not a regex",
        ),
        (
            {"/v": {"get": {**lambda_op("F"), "x-amazon-apigateway-request-validator": "missing"}}},
            "'missing'",
        ),
    ],
)
def test_a_definition_that_cannot_be_served_fails_naming_the_route(paths: dict[str, Any], named: str) -> None:
    with pytest.raises(ApiDefinitionError, match=named.replace("{", r"\{").replace("+", r"\+")):
        table(paths)


def test_a_broken_model_fails_at_load_naming_the_route() -> None:
    operation = {
        **lambda_op("F"),
        "x-amazon-apigateway-request-validator": "all",
        "parameters": [{"in": "body", "name": "b", "schema": {"type": "no-such-type"}}],
    }
    validators = {"all": {"validateRequestBody": True, "validateRequestParameters": True}}
    with pytest.raises(ApiDefinitionError, match="POST /things: not a valid JSON Schema draft 4"):
        table({"/things": {"post": operation}}, **{"x-amazon-apigateway-request-validators": validators})


def test_a_route_with_an_authorizer_is_served_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    secured = {**lambda_op("Private"), "security": [{"CognitoAuthorizer": []}]}
    routes = table({"/private": {"get": secured}})
    assert target_of(routes, "GET", "/private") == ("Private", "/private", {})
    assert "GET /private declares security" in caplog.text


def test_paths_split_before_decoding_and_the_stage_prefix_is_an_alias() -> None:
    assert split_path("/a%2Fb/c%20d/") == ["a/b", "c d"]
    assert split_path("/") == []
    assert strip_stage("/v1/items", "v1") == "/items"
    assert strip_stage("/v1", "v1") == "/"
    assert strip_stage("/v10/items", "v1") == "/v10/items"


def _template(api_properties: dict[str, Any], stages: list[str]) -> dict[str, Any]:
    resources: dict[str, Any] = {"Api": {"Type": "AWS::ApiGateway::RestApi", "Properties": api_properties}}
    for index, stage in enumerate(stages):
        resources[f"Stage{index}"] = {
            "Type": "AWS::ApiGateway::Stage",
            "Properties": {"RestApiId": {"Ref": "Api"}, "StageName": stage, "Variables": {"color": "blue"}},
        }
    return {"Resources": resources}


def _stack_resolver(value: Any) -> Any:
    refs = {"Api": "a1b2c3d4e5", "AWS::AccountId": "111122223333", "AWS::StackName": "shop-stack"}
    return refs[value["Ref"]] if isinstance(value, dict) and "Ref" in value else value


def test_each_rest_api_of_a_template_is_served_on_its_stage() -> None:
    body = {"swagger": "2.0", "info": {"title": {"Ref": "AWS::StackName"}}, "paths": SHOP}
    tables = route_tables_from_template(_template({"Body": body}, ["live"]), _stack_resolver)
    assert list(tables) == ["Api"]
    api = tables["Api"]
    assert (api.stage, api.api_id, api.account_id, api.api_name) == (
        "live",
        "a1b2c3d4e5",
        "111122223333",
        "shop-stack",
    )
    assert api.stage_variables == (("color", "blue"),)
    assert target_of(api, "GET", "/items/1") == ("Get", "/items/{id}", {"id": "1"})
    named = route_tables_from_template(
        _template({"Body": body, "Name": "shop-api"}, ["live"]), _stack_resolver
    )
    assert named["Api"].api_name == "shop-api"


@pytest.mark.parametrize(
    ("properties", "stages", "problem"),
    [
        ({"BodyS3Location": {"Bucket": "b", "Key": "k"}}, ["live"], "only an inline Body"),
        ({"Body": {"swagger": "2.0", "paths": {}}}, [], "found none"),
        ({"Body": {"swagger": "2.0", "paths": {}}}, ["a", "b"], "found a, b"),
        (
            {"Body": {"swagger": "2.0", "paths": {"/x": {"get": {}}}}},
            ["a"],
            "GET /x: no x-amazon-apigateway-integration",
        ),
    ],
)
def test_an_api_that_cannot_be_served_is_named(
    properties: dict[str, Any], stages: list[str], problem: str
) -> None:
    with pytest.raises(ApiDefinitionError, match=f"^Api: .*{problem}"):
        route_tables_from_template(_template(properties, stages), _stack_resolver)
