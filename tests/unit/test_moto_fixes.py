"""ListMetrics on the stack's moto answers as CloudWatch does: each metric once, whatever was put."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
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


def _stat(query_id: str, namespace: str, name: str, dimensions: dict[str, str], stat: str) -> dict[str, Any]:
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {
                "Namespace": namespace,
                "MetricName": name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dimensions.items()],
            },
            "Period": 60,
            "Stat": stat,
        },
    }


def test_metric_data_gives_each_query_the_statistics_of_its_own_metric_per_period(cloudwatch: Any) -> None:
    minute = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=10)
    v1 = [{"Name": "function", "Value": "fx"}, {"Name": "version", "Value": "1"}]
    v2 = [{"Name": "function", "Value": "fx"}, {"Name": "version", "Value": "2"}]
    data = [
        ("metrics-a", "Duration", v1, 0, 10.0),
        ("metrics-a", "Duration", v1, 0, 30.0),
        ("metrics-a", "Duration", v1, 1, 5.0),
        ("metrics-a", "Duration", v2, 0, 100.0),
        ("metrics-b", "Duration", v1, 0, 7.0),  # same name and dimensions, another namespace
    ]
    for namespace, name, dimensions, offset, value in data:
        cloudwatch.put_metric_data(
            Namespace=namespace,
            MetricData=[
                {
                    "MetricName": name,
                    "Dimensions": dimensions,
                    "Value": value,
                    "Timestamp": minute + timedelta(minutes=offset, seconds=5),
                }
            ],
        )
    as_dict = {"function": "fx", "version": "1"}
    answer = cloudwatch.get_metric_data(
        MetricDataQueries=[
            _stat("a_sum", "metrics-a", "Duration", as_dict, "Sum"),
            _stat("a_max", "metrics-a", "Duration", as_dict, "Maximum"),
            _stat("a_v2", "metrics-a", "Duration", {"function": "fx", "version": "2"}, "SampleCount"),
            _stat("b_sum", "metrics-b", "Duration", as_dict, "Sum"),
        ],
        StartTime=minute,
        EndTime=minute + timedelta(minutes=2),
        ScanBy="TimestampAscending",
    )
    got = {r["Id"]: r["Values"] for r in answer["MetricDataResults"]}
    assert got == {"a_sum": [40.0, 5.0], "a_max": [30.0, 5.0], "a_v2": [1.0], "b_sum": [7.0]}

    # A call with an expression goes to moto as it came (expressions name other queries), and answers.
    v2_dict = {"function": "fx", "version": "2"}
    with_expression = cloudwatch.get_metric_data(
        MetricDataQueries=[
            _stat("v2", "metrics-a", "Duration", v2_dict, "Sum"),
            {"Id": "same", "Expression": "v2"},
        ],
        StartTime=minute,
        EndTime=minute + timedelta(minutes=2),
    )
    assert {r["Id"] for r in with_expression["MetricDataResults"]} == {"v2", "same"}
    assert [r["Values"] for r in with_expression["MetricDataResults"] if r["Id"] == "v2"] == [[100.0]]
