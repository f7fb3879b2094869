"""EMF parsing on real Powertools Metrics output, and the shipper's handling of bad blobs."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricResolution, MetricUnit

from instrumented_app.runtime.emf import (
    EmfError,
    EmfMetricShipper,
    MetricDatum,
    looks_like_emf,
    parse_emf,
    put_metric_data_requests,
)


def _powertools_lines(capsys: pytest.CaptureFixture[str], record: Any) -> list[str]:
    metrics = Metrics(namespace="Shop", service="orders")
    # Powertools keeps one metric set per process, shared by every Metrics instance: start from empty,
    # whatever an earlier test in this process left unflushed.
    metrics.clear_metrics()
    record(metrics)
    metrics.flush_metrics()
    return [line for line in capsys.readouterr().out.splitlines() if line]


def test_powertools_output_parses_into_one_datum_per_metric(capsys: pytest.CaptureFixture[str]) -> None:
    def record(metrics: Metrics) -> None:
        metrics.add_dimension(name="version", value="2")
        metrics.add_metric(name="Orders", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="Orders", unit=MetricUnit.Count, value=3)
        metrics.add_metric(name="Latency", unit=MetricUnit.Milliseconds, value=12.5)

    (line,) = _powertools_lines(capsys, record)
    datums = parse_emf(line)

    timestamp = json.loads(line)["_aws"]["Timestamp"]
    assert looks_like_emf(line)
    assert datums == [
        MetricDatum(
            "Shop", "Orders", (1.0, 3.0), (("version", "2"), ("service", "orders")), "Count", timestamp
        ),
        MetricDatum(
            "Shop", "Latency", (12.5,), (("version", "2"), ("service", "orders")), "Milliseconds", timestamp
        ),
    ]


def test_high_resolution_metrics_keep_their_storage_resolution(capsys: pytest.CaptureFixture[str]) -> None:
    def record(metrics: Metrics) -> None:
        metrics.add_metric(name="Hits", unit=MetricUnit.Count, value=1, resolution=MetricResolution.High)

    (line,) = _powertools_lines(capsys, record)

    assert [d.storage_resolution for d in parse_emf(line)] == [1]


def test_each_dimension_set_is_its_own_metric() -> None:
    line = json.dumps(
        {
            "_aws": {
                "Timestamp": 1_700_000_000_000,
                "CloudWatchMetrics": [
                    {
                        "Namespace": "Shop",
                        "Dimensions": [["fn"], ["fn", "version"], []],
                        "Metrics": [{"Name": "Ok"}],
                    }
                ],
            },
            "fn": "checkout",
            "version": "1",
            "Ok": 1,
        }
    )

    dimension_sets = [d.dimensions for d in parse_emf(line)]

    assert dimension_sets == [(("fn", "checkout"),), (("fn", "checkout"), ("version", "1")), ()]


@pytest.mark.parametrize(
    ("blob", "complaint"),
    [
        ("{not json", "not JSON"),
        ({"_aws": {"CloudWatchMetrics": [{"Dimensions": [], "Metrics": []}]}}, "Namespace: missing"),
        (
            {
                "_aws": {
                    "CloudWatchMetrics": [
                        {"Namespace": "S", "Dimensions": [["fn"]], "Metrics": [{"Name": "M"}]}
                    ]
                },
                "M": 1,
            },
            "fn: dimension value missing",
        ),
        (
            {
                "_aws": {
                    "CloudWatchMetrics": [{"Namespace": "S", "Dimensions": [], "Metrics": [{"Name": "M"}]}]
                }
            },
            "M: metric value missing",
        ),
        (
            {
                "_aws": {
                    "CloudWatchMetrics": [{"Namespace": "S", "Dimensions": [], "Metrics": [{"Name": "M"}]}]
                },
                "M": "many",
            },
            "is not a finite number",
        ),
        (
            {
                "_aws": {
                    "CloudWatchMetrics": [
                        {"Namespace": "S", "Dimensions": [], "Metrics": [{"Name": "M", "Unit": "Parsecs"}]}
                    ]
                },
                "M": 1,
            },
            "Unit: 'Parsecs' is not a CloudWatch unit",
        ),
        ({"_aws": {"Timestamp": "yesterday", "CloudWatchMetrics": []}}, "_aws.Timestamp"),
    ],
)
def test_a_malformed_blob_is_refused_with_the_field_named(blob: Any, complaint: str) -> None:
    line = blob if isinstance(blob, str) else json.dumps(blob)

    with pytest.raises(EmfError, match=complaint):
        parse_emf(line)


class RecordingCloudWatch:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def put_metric_data(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)


def test_the_shipper_skips_and_counts_bad_blobs_and_ships_the_good_ones() -> None:
    good = json.dumps(
        {
            "_aws": {
                "CloudWatchMetrics": [{"Namespace": "Shop", "Dimensions": [], "Metrics": [{"Name": "Ok"}]}]
            },
            "Ok": [1, 2],
        }
    )
    cloudwatch = RecordingCloudWatch()
    shipper = EmfMetricShipper(cloudwatch)

    mentions = json.dumps({"level": "INFO", "request": {"_aws": "a nested key, not EMF"}})
    shipper.ship(["START RequestId: x", '{"_aws": 5}', good, '{"_aws" broken', "plain text", mentions])

    assert shipper.malformed_blobs == 2
    assert len(cloudwatch.calls) == 1
    assert cloudwatch.calls[0]["Namespace"] == "Shop"
    assert cloudwatch.calls[0]["MetricData"][0]["Values"] == [1.0, 2.0]


def test_requests_stay_within_put_metric_data_limits() -> None:
    datums = [MetricDatum("A", f"m{i}", (1.0,), ()) for i in range(1500)]
    datums.append(MetricDatum("B", "wide", tuple(float(v) for v in range(200)), ()))

    requests = list(put_metric_data_requests(datums))

    assert [(r["Namespace"], len(r["MetricData"])) for r in requests] == [("A", 1000), ("A", 500), ("B", 2)]
    assert [len(d["Values"]) for d in requests[2]["MetricData"]] == [150, 50]
