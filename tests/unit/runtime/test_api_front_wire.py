"""The API front over the real runtime: the fixture template provisioned into moto, real handlers.

moto runs as a server on loopback, ``provision`` creates the template's
resources in it, ``LocalInvoker`` runs the handlers in worker processes, and
the front reads its routes from the same translated template. Only a thin
counting wrapper sits between the front and the invoker, to prove that
refused requests never reach a function.
"""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from moto.server import ThreadedMotoServer

from instrumented_app.runtime.api_front import ApiFront, route_tables_from_template
from instrumented_app.runtime.api_front.metrics import publish
from instrumented_app.runtime.invoker import LocalInvoker
from instrumented_app.runtime.provision import provision
from instrumented_app.runtime.types import InvocationResult
from sagawatch.stack.aws import MOTO_CONFIG

ROOT = Path(__file__).resolve().parents[3]
FIXTURE_TEMPLATE = ROOT / "tests" / "stack" / "fixtures" / "runtime_template.yaml"
REGION = "us-east-1"


@dataclass
class CountingInvoker:
    inner: LocalInvoker
    calls: list[tuple[str, str | None]] = field(default_factory=list)

    def invoke(self, function_name: str, event: Any, *, qualifier: str | None = None) -> InvocationResult:
        self.calls.append((function_name, qualifier))
        return self.inner.invoke(function_name, event, qualifier=qualifier)


@dataclass
class Wired:
    client: httpx.Client
    invoker: CountingInvoker
    front: ApiFront
    endpoint: str


@pytest.fixture(scope="module")
def wired() -> Iterator[Wired]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    httpx.post(f"{endpoint}/moto-api/config", json=MOTO_CONFIG, timeout=10).raise_for_status()
    try:
        stack = provision(FIXTURE_TEMPLATE, endpoint_url=endpoint, region=REGION, stack_name="apifront")
        table = route_tables_from_template(stack.template, stack.resolve)["FixtureApi"]
        with LocalInvoker(aws_endpoint=endpoint, region=REGION, rng=random.Random(3)) as local:
            invoker = CountingInvoker(local)
            with ApiFront(table, invoker) as front, httpx.Client(base_url=front.url, timeout=30) as client:
                yield Wired(client, invoker, front, endpoint)
    finally:
        server.stop()


@pytest.fixture
def fresh(wired: Wired) -> Wired:
    wired.invoker.calls.clear()
    return wired


def test_a_request_reaches_the_handler_and_its_answer_comes_back(fresh: Wired) -> None:
    response = fresh.client.get("/v1/echo", params={"cust_no": "C1234"}, headers={"X-Correlation-Id": "fx-1"})
    assert response.status_code == 200
    echoed = response.json()
    assert echoed["path"] == "/echo"
    assert echoed["query"] == {"cust_no": "C1234"}
    assert echoed["function_name"] == "fx-echo"
    assert response.headers["x-correlation-id"] == "fx-1"
    assert fresh.invoker.calls == [("fx-echo", None)]


def test_a_request_missing_cust_no_is_refused_and_no_function_runs(fresh: Wired) -> None:
    response = fresh.client.get("/v1/echo")
    assert response.status_code == 400
    assert response.json()["message"] == "Missing required request parameters: [cust_no]"
    refused_body = fresh.client.post("/v1/validated", json={"email": "hanako@example.com"})
    assert refused_body.status_code == 400
    assert refused_body.json()["errors"] == [{"field": "cust_no", "problem": "is a required property"}]
    assert "hanako@example.com" not in refused_body.text
    assert fresh.invoker.calls == []
    accepted = fresh.client.post("/v1/validated", json={"cust_no": "C0001", "email": "hanako@example.com"})
    assert accepted.status_code == 200
    assert fresh.invoker.calls == [("fx-echo", None)]


def test_the_mock_route_answers_without_any_backend(fresh: Wired) -> None:
    response = fresh.client.get("/v1/mock/status")
    assert response.status_code == 200
    assert response.json() == {"status": "mocked", "backend": "none"}
    assert fresh.invoker.calls == []


def test_the_canary_route_invokes_the_alias_and_a_version_of_it_answers(fresh: Wired) -> None:
    answers = [fresh.client.get("/v1/canary").json() for _ in range(20)]
    assert set(fresh.invoker.calls) == {("fx-canary", "live")}
    assert {answer["version"] for answer in answers} <= {"1", "2"}
    assert all(answer["variant"] == {"1": "blue", "2": "green"}[answer["version"]] for answer in answers)


def test_a_thousand_requests_split_between_the_aliases_versions_by_weight(fresh: Wired) -> None:
    versions = Counter(fresh.client.get("/v1/canary").json()["version"] for _ in range(1000))
    assert set(versions) == {"1", "2"}
    assert 20 <= versions["2"] <= 80  # the template's 5 % to version 2, within +-3 points


def test_drained_metrics_are_accepted_by_cloudwatch_and_read_back(fresh: Wired) -> None:
    fresh.front.drain_metrics()
    fresh.client.get("/v1/echo", params={"cust_no": "C1"})
    fresh.client.get("/v1/echo")
    fresh.client.get("/v1/nowhere")
    data = fresh.front.drain_metrics()
    cloudwatch = boto3.client(
        "cloudwatch",
        endpoint_url=fresh.endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    assert publish(cloudwatch, data) == len(data) == 3 * 4 + 1  # IntegrationLatency only for the one invoked
    dimensions = [{"Name": "ApiName", "Value": "fixture-api"}, {"Name": "Stage", "Value": "v1"}]
    start, end = data[0].timestamp - timedelta(minutes=1), data[-1].timestamp + timedelta(minutes=1)

    def total(name: str) -> float:
        stats = cloudwatch.get_metric_statistics(
            Namespace="AWS/ApiGateway",
            MetricName=name,
            Dimensions=dimensions,  # type: ignore[arg-type]
            StartTime=start,
            EndTime=end,
            Period=3600,
            Statistics=["Sum"],
        )
        return sum(point["Sum"] for point in stats["Datapoints"])

    assert (total("Count"), total("4XXError"), total("5XXError")) == (3, 2, 0)
