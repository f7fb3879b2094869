"""A canary release on the local runtime, over the wire: deploy a defective v2, judge it, roll it back.

The fixture app's ``fx-canary`` function runs in the project's local Lambda runtime on moto. The test
deploys as a pipeline would -- a new handler configuration published as a baseline version and as a
defective canary version, the alias weighted between them -- then sends requests through the API
front's ``/canary`` route (aliased to ``fx-canary:live``), reads per-version samples back from
CloudWatch Logs and CloudWatch metrics, judges, rolls back, and checks that traffic returns to v1.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from alarms.canary.analysis import analyse
from alarms.canary.control import CanaryControl
from alarms.canary.judge import Classification, Verdict, default_config
from alarms.canary.metrics import (
    ERROR_RATE,
    CloudWatchMetricSource,
    LogReportSource,
    SampleSource,
    emf_metric_names,
)
from instrumented_app.runtime.local import LocalRuntime
from sagawatch.aws import aws_session
from sagawatch.stack.aws import MotoServer

pytestmark = pytest.mark.slow

FIXTURE_TEMPLATE = Path(__file__).parents[2] / "stack" / "fixtures" / "runtime_template.yaml"
REGION = "us-east-1"
FUNCTION = "fx-canary"
NAMESPACE = "sagawatch-canary-wire"
SERVICE = "canary-wire"


@dataclass
class Deployed:
    runtime: LocalRuntime
    lambda_: Any
    logs: Any
    cloudwatch: Any
    control: CanaryControl
    baseline: str
    canary: str

    def requests(self, count: int) -> Counter[str]:
        """Send ``count`` requests to the aliased route; count answers by version, failures as "failed"."""
        seen: Counter[str] = Counter()
        with httpx.Client(base_url=self.runtime.main_api, timeout=10) as client:
            for _ in range(count):
                response = client.get("/canary")
                seen[response.json()["version"] if response.status_code == 200 else "failed"] += 1
        return seen

    def route_changed(self) -> None:
        """The runtime caches alias routing (as a warm Lambda front end would briefly); re-read it."""
        self.runtime.invoker.refresh(FUNCTION)


def _publish(lambda_: Any, handler: str, variables: dict[str, str], description: str) -> str:
    lambda_.update_function_configuration(
        FunctionName=FUNCTION, Handler=handler, Environment={"Variables": variables}
    )
    return str(lambda_.publish_version(FunctionName=FUNCTION, Description=description)["Version"])


@pytest.fixture(scope="module")
def deployed() -> Iterator[Deployed]:
    moto = MotoServer("127.0.0.1", 0)
    endpoint = moto.start()
    moto.reset()
    runtime = LocalRuntime(
        aws_endpoint=endpoint, region=REGION, otlp_endpoint=None, template_path=FIXTURE_TEMPLATE
    )
    try:
        runtime.start()
        session = aws_session(REGION, endpoint)
        lambda_ = session.client("lambda", endpoint_url=endpoint)
        common = {"POWERTOOLS_SERVICE_NAME": SERVICE, "POWERTOOLS_METRICS_NAMESPACE": NAMESPACE}
        handler = "tests.unit.canary.defective_handler.handler"
        baseline = _publish(
            lambda_, handler, {**common, "VARIANT": "blue", "DEFECT_RATE": "0.01"}, "baseline"
        )
        canary = _publish(lambda_, handler, {**common, "VARIANT": "green", "DEFECT_RATE": "0.2"}, "defective")
        # The pipeline's step: the alias now serves the new baseline, with no canary yet.
        lambda_.update_alias(
            FunctionName=FUNCTION,
            Name="live",
            FunctionVersion=baseline,
            RoutingConfig={"AdditionalVersionWeights": {}},
        )
        yield Deployed(
            runtime=runtime,
            lambda_=lambda_,
            logs=session.client("logs", endpoint_url=endpoint),
            cloudwatch=session.client("cloudwatch", endpoint_url=endpoint),
            control=CanaryControl(lambda_, operator="wire-test"),
            baseline=baseline,
            canary=canary,
        )
    finally:
        runtime.stop()
        moto.reset()
        moto.stop()


def test_a_defective_canary_is_judged_fail_from_what_cloudwatch_holds_and_rollback_returns_traffic_to_v1(
    deployed: Deployed,
) -> None:
    start = datetime.now(UTC) - timedelta(seconds=5)
    deployed.control.set_weight(FUNCTION, "live", 0.5, version=deployed.canary)
    deployed.route_changed()

    answers = deployed.requests(400)
    deployed.runtime.invoker.flush()
    end = datetime.now(UTC) + timedelta(seconds=5)

    # Both versions served; the failures are mostly the canary's.
    assert answers[deployed.baseline] > 100 and answers[deployed.canary] > 100, answers

    logs = LogReportSource(deployed.logs, FUNCTION).samples([deployed.baseline, deployed.canary], start, end)
    base, can = logs[deployed.baseline], logs[deployed.canary]
    assert base.invocations + can.invocations == 400
    assert base.invocations - base.errors == answers[deployed.baseline]
    assert can.invocations - can.errors == answers[deployed.canary]
    assert base.errors + can.errors == answers["failed"]

    # The app's EMF (version dimension) reached CloudWatch metrics with the same counts.
    listed = deployed.cloudwatch.list_metrics(Namespace=NAMESPACE)["Metrics"]
    assert {m["MetricName"] for m in listed} >= {"Invocations", "Errors", "Duration"}
    assert all({d["Name"] for d in m["Dimensions"]} == {"service", "version"} for m in listed)
    metrics = CloudWatchMetricSource(deployed.cloudwatch, emf_metric_names(NAMESPACE, SERVICE)).samples(
        [deployed.baseline, deployed.canary], start - timedelta(minutes=1), end + timedelta(minutes=1)
    )
    assert [(m.invocations, m.errors) for m in metrics.values()] == [
        (base.invocations, base.errors),
        (can.invocations, can.errors),
    ]

    state = deployed.control.status(FUNCTION)
    sources: list[SampleSource] = [
        CloudWatchMetricSource(deployed.cloudwatch, emf_metric_names(NAMESPACE, SERVICE)),
        LogReportSource(deployed.logs, FUNCTION),
    ]
    report = analyse(state, sources, start, end, default_config())
    # A minute or two of per-minute metric samples is too few: the per-invocation REPORT lines decide.
    assert report.source == "cloudwatch-logs"
    assert report.result.verdict is Verdict.FAIL
    by_name = {m.name: m for m in report.result.metrics}
    assert by_name[ERROR_RATE].classification is Classification.HIGH

    record = deployed.control.rollback(FUNCTION, "live")
    deployed.route_changed()
    assert record.after.canary_version is None
    assert record.before.canary_weight == 0.5

    after = deployed.requests(100)
    assert set(after) <= {deployed.baseline, "failed"}, after
    assert after[deployed.baseline] >= 90
