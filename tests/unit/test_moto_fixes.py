"""ListMetrics on the stack's moto answers as CloudWatch does: each metric once, whatever was put."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from sagawatch.aws import aws_session
from sagawatch.stack.aws import MotoServer


@pytest.fixture(scope="module")
def cloudwatch() -> Iterator[Any]:
    moto = MotoServer("127.0.0.1", 0)
    endpoint = moto.start()
    moto.reset()
    try:
        yield aws_session("us-east-1", endpoint).client("cloudwatch", endpoint_url=endpoint)
    finally:
        moto.reset()
        moto.stop()


def _put(cloudwatch: Any, name: str, dimensions: dict[str, str], times: int) -> None:
    datum = {
        "MetricName": name,
        "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
        "Value": 1.0,
        "Timestamp": datetime.now(UTC),
    }
    for _ in range(times):
        cloudwatch.put_metric_data(Namespace="fixes", MetricData=[datum])


def _listed(cloudwatch: Any, **filters: Any) -> list[tuple[str, dict[str, str]]]:
    pages = cloudwatch.get_paginator("list_metrics").paginate(Namespace="fixes", **filters)
    listed = [
        (m["MetricName"], {d["Name"]: d["Value"] for d in m.get("Dimensions", [])})
        for page in pages
        for m in page["Metrics"]
    ]
    return sorted(listed, key=lambda metric: (metric[0], sorted(metric[1].items())))


def test_each_metric_is_listed_once_however_many_data_were_put(cloudwatch: Any) -> None:
    two = {"function": "sw-customers", "version": "2"}
    _put(cloudwatch, "Errors", two, 30)
    _put(cloudwatch, "Errors", {"function": "sw-customers", "version": "1"}, 30)
    _put(cloudwatch, "Errors", {"function": "sw-customers"}, 5)
    _put(cloudwatch, "StuckSagas", {}, 20)

    assert _listed(cloudwatch) == [
        ("Errors", {"function": "sw-customers"}),
        ("Errors", {"function": "sw-customers", "version": "1"}),
        ("Errors", two),
        ("StuckSagas", {}),
    ]
    # A dimension named without a value matches any value of it; with a value, only that one.
    assert len(_listed(cloudwatch, Dimensions=[{"Name": "version"}])) == 2
    assert _listed(cloudwatch, MetricName="Errors", Dimensions=[{"Name": "version", "Value": "2"}]) == [
        ("Errors", two)
    ]
