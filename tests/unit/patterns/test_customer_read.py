"""The canary's function, ``GET /customers/{cust_no}``, on a real PostgreSQL: answers and per-version EMF."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from instrumented_app.handlers import canary_release, customer_read
from sagawatch.migrations import apply_migrations
from tests.lambda_context import FakeContext

CONTEXT = FakeContext(
    function_name="sw-customer-read",
    function_version="2",
    aws_request_id="5a1d0c1e-0000-4000-8000-000000000001",
    invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:sw-customer-read:live",
)


def get_event(cust_no: str) -> dict[str, Any]:
    path = f"/customers/{cust_no}"
    return {
        "resource": "/customers/{cust_no}",
        "path": path,
        "httpMethod": "GET",
        "headers": {"X-Correlation-Id": "canary-unit-1"},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"cust_no": cust_no},
        "requestContext": {"resourcePath": "/customers/{cust_no}", "httpMethod": "GET", "path": f"/v1{path}"},
        "body": None,
        "isBase64Encoded": False,
    }


@pytest.fixture
def aurora(fresh_db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    apply_migrations(fresh_db_url, "instrumented_app.schema")
    with psycopg.connect(fresh_db_url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO customer (cust_no, family_name, given_name, email, status)"
            " VALUES ('C100', 'Sato', 'Hana', 'hana@example.com', 'ACTIVE'),"
            " ('C101', 'Ito', 'Ken', 'ken@example.com', 'DELETED')"
        )
    monkeypatch.setenv("DATABASE_URL", fresh_db_url)
    monkeypatch.setattr(customer_read, "DEFECT_RATE", 0.0)
    yield fresh_db_url
    if customer_read._conn is not None:
        customer_read._conn.close()
    customer_read._conn = None


def emf_blobs(out: str) -> list[dict[str, Any]]:
    blobs = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return [blob for blob in blobs if "_aws" in blob]


def metric_names(blob: dict[str, Any]) -> set[str]:
    return {m["Name"] for directive in blob["_aws"]["CloudWatchMetrics"] for m in directive["Metrics"]}


def test_a_read_answers_the_row_names_the_version_and_reports_its_metrics_under_that_version(
    aurora: str, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = customer_read.handler(get_event("C100"), CONTEXT)
    assert answer["statusCode"] == 200
    # The REST resolver answers with multiValueHeaders; the API front merges them with headers.
    assert answer["multiValueHeaders"][canary_release.VERSION_HEADER] == ["2"]
    body = json.loads(answer["body"])
    assert body["name"] == {"family": "Sato", "given": "Hana"} and body["status"] == "ACTIVE"
    (blob,) = emf_blobs(capsys.readouterr().out)
    assert blob["version"] == "2" and blob["Invocations"] == [1.0] and blob["Duration"][0] >= 0
    assert "Errors" not in metric_names(blob)


def test_missing_deleted_and_malformed_customers_are_client_errors_not_errors(
    aurora: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert customer_read.handler(get_event("C999"), CONTEXT)["statusCode"] == 404
    assert customer_read.handler(get_event("C101"), CONTEXT)["statusCode"] == 404
    bad = customer_read.handler(get_event("not valid!"), CONTEXT)
    assert bad["statusCode"] == 400 and json.loads(bad["body"])["errors"][0]["field"] == "cust_no"
    assert all("Errors" not in metric_names(blob) for blob in emf_blobs(capsys.readouterr().out))


def test_a_defective_version_fails_and_counts_the_error_under_its_version(
    aurora: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(customer_read, "DEFECT_RATE", 1.0)
    with pytest.raises(customer_read.InjectedDefect):
        customer_read.handler(get_event("C100"), CONTEXT)
    out = capsys.readouterr().out
    (blob,) = emf_blobs(out)
    assert blob["version"] == "2" and blob["Invocations"] == [1.0] and blob["Errors"] == [1.0]
    failure = [json.loads(line) for line in out.splitlines() if '"level":"ERROR"' in line.replace(" ", "")]
    assert failure and failure[0]["error_code"] == "CANARY_INJECTED_DEFECT"


def test_aurora_unreachable_is_a_502_counted_as_an_error(
    aurora: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    answer = customer_read.handler(get_event("C100"), CONTEXT)
    assert answer["statusCode"] == 502
    (blob,) = emf_blobs(capsys.readouterr().out)
    assert blob["Errors"] == [1.0]


@pytest.mark.parametrize(
    ("environ", "rate"),
    [
        ({"CANARY_DEFECT_RATE": "0.3"}, 0.0),  # test faults off: a deployed stack never fails on purpose
        ({"CANARY_DEFECT_RATE": "0.3", "SAGAWATCH_TEST_FAULTS": "true"}, 0.3),
        ({"SAGAWATCH_TEST_FAULTS": "true"}, 0.0),
    ],
)
def test_the_defect_rate_applies_only_where_test_faults_are_on(environ: dict[str, str], rate: float) -> None:
    assert canary_release.defect_rate(environ) == rate


@pytest.mark.parametrize("raw", ["lots", "1.5", "-0.1"])
def test_a_bad_defect_rate_is_refused_naming_the_variable(raw: str) -> None:
    with pytest.raises(ValueError, match="CANARY_DEFECT_RATE"):
        canary_release.defect_rate({"CANARY_DEFECT_RATE": raw, "SAGAWATCH_TEST_FAULTS": "1"})


def test_the_template_releases_the_read_api_95_5_behind_live_and_mocks_health() -> None:
    from instrumented_app.runtime.template import APP_TEMPLATE, load_sam_template, translated_template

    resources = load_sam_template(APP_TEMPLATE)["Resources"]
    alias = resources["CustomerReadAlias"]["Properties"]
    assert alias["Name"] == canary_release.ALIAS
    assert alias["RoutingConfig"]["AdditionalVersionWeights"][0]["FunctionWeight"] == 0.05
    baseline = resources["CustomerReadVersion1"]["Metadata"]["sagawatch"]["PublishedWith"]
    assert baseline["Environment"]["Variables"][canary_release.DEFECT_RATE_ENV] == "0"
    function = resources["CustomerReadFunction"]["Properties"]
    assert function["FunctionName"] == canary_release.FUNCTION
    assert function["Environment"]["Variables"][canary_release.DEFECT_RATE_ENV] == {"Ref": "CanaryDefectRate"}

    body = translated_template(APP_TEMPLATE, "us-east-1")["Resources"]["AppApi"]["Properties"]["Body"]
    read = body["paths"]["/customers/{cust_no}"]["get"]["x-amazon-apigateway-integration"]
    assert "${CustomerReadAlias}" in read["uri"]["Fn::Sub"]
    assert body["paths"]["/health"]["get"]["x-amazon-apigateway-integration"]["type"] == "mock"
    # MergeDefinitions keeps the gatekeeper: POST /customers still names a validator the body declares.
    validator = body["paths"]["/customers"]["post"]["x-amazon-apigateway-request-validator"]
    assert body["x-amazon-apigateway-request-validators"][validator]["validateRequestBody"] is True
