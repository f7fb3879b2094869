"""The one definition of the app: the SAM templates lint clean, translate, and name real handlers."""

from __future__ import annotations

import importlib
import io
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint_file  # type: ignore[import-untyped]

from instrumented_app.runtime.template import APP_TEMPLATE, load_sam_template, translated_template
from sagawatch.contracts.logline import REQUIRED_LOG_FIELDS

ROOT = Path(__file__).resolve().parents[3]
FIXTURE_TEMPLATE = ROOT / "tests" / "stack" / "fixtures" / "runtime_template.yaml"
TEMPLATES = [pytest.param(APP_TEMPLATE, id="app"), pytest.param(FIXTURE_TEMPLATE, id="runtime-fixture")]


@pytest.mark.parametrize("template", TEMPLATES)
def test_cfn_lint_passes(template: Path) -> None:
    matches = lint_file(template)
    assert not matches, "\n".join(str(match) for match in matches)


def test_cfn_lint_catches_a_broken_template(tmp_path: Path) -> None:
    """The lint test above can fail: a queue with a misspelt property is reported."""
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      VisibiltyTimeout: 5\n",
        encoding="utf-8",
    )
    assert any("VisibiltyTimeout" in str(match) for match in lint_file(broken))


def _functions(template: Path) -> dict[str, dict[str, Any]]:
    resources = translated_template(template, "us-east-1")["Resources"]
    return {lid: r["Properties"] for lid, r in resources.items() if r["Type"] == "AWS::Lambda::Function"}


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_function_names_an_importable_handler(template: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Lambda always sets a region; handlers may make their clients at import (init phase), as they should.
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    functions = _functions(template)
    assert functions
    for logical_id, properties in functions.items():
        module_name, _, attr = properties["Handler"].rpartition(".")
        handler = getattr(importlib.import_module(module_name), attr, None)
        assert callable(handler), f"{logical_id}: {properties['Handler']} is not a callable"


@pytest.mark.parametrize("template", TEMPLATES)
def test_every_function_has_a_short_stable_name(template: Path) -> None:
    for logical_id, properties in _functions(template).items():
        name = properties.get("FunctionName")
        assert isinstance(name, str), f"{logical_id} has no explicit FunctionName"
        assert len(name) <= 32, f"{logical_id}: {name} is long"


def test_app_functions_each_have_a_log_group_with_retention() -> None:
    resources = translated_template(APP_TEMPLATE, "us-east-1")["Resources"]
    groups = {
        json.dumps(r["Properties"]["LogGroupName"]): r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Logs::LogGroup"
    }
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        expected = json.dumps({"Fn::Sub": f"/aws/lambda/${{{logical_id}}}"})
        assert expected in groups, f"{logical_id} has no /aws/lambda log group"
        assert "RetentionInDays" in groups[expected]


def test_app_api_serves_diagnostics_ping_from_the_diagnostics_function() -> None:
    sam = load_sam_template(APP_TEMPLATE)
    assert sam["Globals"]["Function"]["Runtime"] == "python3.11"
    body = translated_template(APP_TEMPLATE, "us-east-1")["Resources"]["AppApi"]["Properties"]["Body"]
    integration = body["paths"]["/diagnostics/ping"]["get"]["x-amazon-apigateway-integration"]
    assert integration["type"] == "aws_proxy"
    assert "${DiagnosticsFunction.Arn}" in integration["uri"]["Fn::Sub"]


def test_fixture_api_keeps_validators_mock_route_and_merged_event_routes() -> None:
    """SAM's MergeDefinitions keeps the inline body's validators and mock route beside the events'."""
    body = translated_template(FIXTURE_TEMPLATE, "us-east-1")["Resources"]["FixtureApi"]["Properties"]["Body"]
    paths = body["paths"]
    assert set(paths) >= {"/echo", "/validated", "/mock/status", "/canary"}
    assert paths["/mock/status"]["get"]["x-amazon-apigateway-integration"]["type"] == "mock"
    validated = paths["/validated"]["post"]
    assert body["x-amazon-apigateway-request-validators"][validated["x-amazon-apigateway-request-validator"]][
        "validateRequestBody"
    ]
    assert body["definitions"]["customerrequest"]["required"] == ["cust_no"]
    echo = paths["/echo"]["get"]
    assert body["x-amazon-apigateway-request-validators"][echo["x-amazon-apigateway-request-validator"]][
        "validateRequestParameters"
    ]
    assert {"name": "cust_no", "in": "query", "required": True, "type": "string"} in echo["parameters"]


class _Context:
    function_name = "sw-diagnostics"
    function_version = "3"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:sw-diagnostics"
    memory_limit_in_mb = 256
    aws_request_id = "req-diag-1"

    def get_remaining_time_in_millis(self) -> int:
        return 3000


def _ping_event(headers: dict[str, str]) -> dict[str, Any]:
    return {
        "resource": "/diagnostics/ping",
        "path": "/diagnostics/ping",
        "httpMethod": "GET",
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {"stage": "v1", "requestId": "r-1", "httpMethod": "GET", "identity": {}},
        "body": None,
        "isBase64Encoded": False,
    }


def test_diagnostics_ping_answers_with_the_callers_correlation_id_and_logs_it() -> None:
    from instrumented_app.handlers import diagnostics

    out = io.StringIO()
    stream_handler = diagnostics.logger.registered_handler
    assert isinstance(stream_handler, logging.StreamHandler)
    previous = stream_handler.setStream(out)
    try:
        response = diagnostics.handler(_ping_event({"X-Correlation-Id": "smoke-42"}), _Context())
    finally:
        stream_handler.setStream(previous)

    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == {
        "status": "ok",
        "correlation_id": "smoke-42",
        "function_version": "3",
    }
    logged = [json.loads(line) for line in out.getvalue().splitlines()]
    (ping_line,) = [line for line in logged if line.get("message") == "diagnostics ping"]
    assert ping_line["correlation_id"] == "smoke-42"
    assert set(REQUIRED_LOG_FIELDS) <= set(ping_line), "the smoke check reads a contract log line"


def test_diagnostics_ping_mints_a_correlation_id_when_none_is_sent() -> None:
    from instrumented_app.handlers.diagnostics import handler

    response = handler(_ping_event({}), _Context())

    minted = json.loads(response["body"])["correlation_id"]
    assert minted and response["headers"]["X-Correlation-Id"] == minted
