"""Shared pieces for the API front tests: a SAM API translated for real, a resolver, a fake invoker,
and ``serving``, which starts ``ApiFront`` instances over them for one test.

The OpenAPI body comes from the SAM translator (as provisioning reads it), so
the tests exercise the shape SAM really emits, not one written by hand. SAM
events cannot declare a mock integration; that takes a ``DefinitionBody``,
and SAM 1.115 drops ``x-amazon-apigateway-request-validators`` when it merges
events into one (``MergeDefinitions``). So the mock path is added to the
translated body here, exactly as a hand-written definition would hold it.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from aws_lambda_powertools.event_handler import APIGatewayRestResolver

from instrumented_app.runtime.api_front import ApiFront, RouteTable, route_tables_from_template
from instrumented_app.runtime.api_front.from_template import REST_API
from instrumented_app.runtime.template import translated_template
from instrumented_app.runtime.types import InvocationError, InvocationResult

REGION = "us-east-1"
ACCOUNT = "123456789012"
STAGE = "prod"
STACK_NAME = "apifront-test"

SAM_TEMPLATE = """
AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
      Variables: {backend: blue}
      BinaryMediaTypes: ["image~1png"]
      Cors:
        AllowOrigin: "'https://ops.example.com'"
        AllowMethods: "'GET,POST'"
        AllowHeaders: "'Content-Type,X-Correlation-Id'"
      Models:
        Customer:
          type: object
          required: [cust_no, email]
          properties:
            cust_no: {type: string, pattern: "^[0-9]+$"}
            email: {type: string, minLength: 3}
            tags: {type: array, items: {type: string}}
  Items:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.11
      Handler: app.items
      CodeUri: .
      Events:
        Get:
          Type: Api
          Properties: {RestApiId: !Ref Api, Path: "/items/{id}", Method: get}
        List:
          Type: Api
          Properties: {RestApiId: !Ref Api, Path: /items, Method: get}
        Search:
          Type: Api
          Properties:
            RestApiId: !Ref Api
            Path: /search
            Method: get
            RequestModel: {Model: Customer, Required: false, ValidateBody: false, ValidateParameters: true}
            RequestParameters:
              - method.request.querystring.q: {Required: true}
              - method.request.header.X-Tenant: {Required: true}
  Echo:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.11
      Handler: app.echo
      CodeUri: .
      Events:
        Files:
          Type: Api
          Properties: {RestApiId: !Ref Api, Path: "/files/{proxy+}", Method: any}
        Upload:
          Type: Api
          Properties: {RestApiId: !Ref Api, Path: /upload, Method: post}
  Customers:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.11
      Handler: app.customers
      CodeUri: .
      AutoPublishAlias: live
      Events:
        Create:
          Type: Api
          Properties:
            RestApiId: !Ref Api
            Path: /customers
            Method: post
            RequestModel: {Model: Customer, Required: true, ValidateBody: true}
  Slow:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.11
      Handler: app.slow
      CodeUri: .
      Events:
        Slow:
          Type: Api
          Properties: {RestApiId: !Ref Api, Path: /slow, Method: get, TimeoutInMillis: 1000}
"""

MOCK_PATH: dict[str, Any] = {
    "get": {
        "x-amazon-apigateway-integration": {
            "type": "mock",
            "requestTemplates": {"application/json": '{"statusCode": 200}'},
            "responses": {
                "default": {
                    "statusCode": "200",
                    "responseParameters": {"method.response.header.X-Mock": "'yes'"},
                    "responseTemplates": {"application/json": '{"status": "ok", "backend": "none"}'},
                }
            },
        }
    }
}

_SUB_VARIABLE = re.compile(r"\$\{([^}]+)\}")


def make_resolver(resources: dict[str, Any]) -> Callable[[Any], Any]:
    """Enough of CloudFormation's intrinsics for an API body: Ref, Fn::Sub, Fn::GetAtt Arn.

    Stands in for the provisioner's ``DeployedStack.resolve``: a function's Ref is
    its name, an alias's Ref its ARN, as CloudFormation returns them.
    """

    def ref(name: str) -> str:
        pseudo = {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::StackName": STACK_NAME}
        if name in pseudo:
            return pseudo[name]
        resource = resources[name]
        if resource["Type"] == "AWS::ApiGateway::RestApi":
            return "a1b2c3d4e5"
        if resource["Type"] == "AWS::Lambda::Alias":
            function = resource["Properties"]["FunctionName"]["Ref"]
            alias = resource["Properties"]["Name"]
            return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function}:{alias}"
        return name

    def arn(name: str) -> str:
        return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"

    def resolve(value: Any) -> Any:
        if isinstance(value, dict) and "Ref" in value:
            return ref(value["Ref"])
        if isinstance(value, dict) and "Fn::GetAtt" in value:
            return arn(value["Fn::GetAtt"][0])
        if isinstance(value, dict) and "Fn::Sub" in value:
            text = value["Fn::Sub"]

            def substitute(found: re.Match[str]) -> str:
                name, _, attribute = found.group(1).partition(".")
                return arn(name) if attribute == "Arn" else ref(name)

            return _SUB_VARIABLE.sub(substitute, text)
        return value

    return resolve


def route_table(tmp_dir: Path, sam: str = SAM_TEMPLATE) -> RouteTable:
    """The API of a SAM template, translated offline, as the front serves it (plus the mock path)."""
    path = tmp_dir / "template.yaml"
    path.write_text(sam, encoding="utf-8")
    template = translated_template(path, REGION)
    api = next(resource for resource in template["Resources"].values() if resource["Type"] == REST_API)
    api["Properties"]["Body"]["paths"]["/health"] = MOCK_PATH
    (table,) = route_tables_from_template(template, make_resolver(template["Resources"])).values()
    return table


Handler = Callable[[dict[str, Any]], Any]


@dataclass
class Call:
    function_name: str
    qualifier: str | None
    event: dict[str, Any]
    started: float
    ended: float = 0.0


@dataclass
class FakeInvoker:
    """The ``Invoker`` protocol over plain Python functions, counting every call."""

    handlers: dict[str, Handler]
    calls: list[Call] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def invoke(self, function_name: str, event: Any, *, qualifier: str | None = None) -> InvocationResult:
        if function_name not in self.handlers:
            raise LookupError(function_name)
        call = Call(function_name, qualifier, event, time.monotonic())
        with self._lock:
            self.calls.append(call)
        started = time.perf_counter()
        error = None
        payload = None
        try:
            payload = self.handlers[function_name](event)
        except Exception as exc:
            error = InvocationError(type(exc).__name__, str(exc))
        call.ended = time.monotonic()
        return InvocationResult(
            function_name=function_name,
            version=qualifier or "$LATEST",
            request_id=str(uuid.uuid4()),
            payload=payload,
            error=error,
            duration_ms=(time.perf_counter() - started) * 1000,
        )

    def calls_to(self, function_name: str) -> list[Call]:
        return [call for call in self.calls if call.function_name == function_name]


Serve = Callable[..., tuple[httpx.Client, FakeInvoker, ApiFront]]
"""``serve(**handlers)`` starts an ApiFront over a FakeInvoker: (client, invoker, front)."""


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


@contextmanager
def serving(table: RouteTable) -> Iterator[Serve]:
    """``serve(**handlers)`` for one test: each call starts an ApiFront; all are stopped at the end.

    The default handlers answer every route of ``SAM_TEMPLATE``; keyword arguments replace
    them by function name, and ``integration_timeout_s`` / ``max_body_bytes`` reach ``ApiFront``.
    """
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

    try:
        yield start
    finally:
        for client, front in started:
            client.close()
            front.stop()
