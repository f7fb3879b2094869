"""Log events -> metric data, as CloudWatch Logs publishes it from a metric filter (pure).

CloudWatch Logs aggregates a filter's values per minute. ``resolution_s`` below 60 cuts finer
buckets (published as high-resolution metrics) so that a test can use a 10-second alarm period;
at 60 the result is exactly ``apply_metric_filter``'s.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from alarms.evaluate.metric_filter import LogEvent, MetricDatum, MetricFilterDefinition, apply_metric_filter

#: ``put_metric_data`` takes up to 1,000 datums per call.
MAX_DATUMS_PER_CALL = 1000


def datums_at_resolution(
    definition: MetricFilterDefinition, events: Iterable[LogEvent], resolution_s: int = 60
) -> list[MetricDatum]:
    """The filter's metric data, one datum per ``resolution_s`` bucket and dimension combination."""
    if resolution_s == 60:
        return apply_metric_filter(definition, events)
    buckets: dict[int, list[LogEvent]] = defaultdict(list)
    for event in events:
        buckets[event.timestamp // (resolution_s * 1000)].append(event)
    datums: list[MetricDatum] = []
    for bucket, bucket_events in sorted(buckets.items()):
        start = datetime.fromtimestamp(bucket * resolution_s, UTC)
        datums.extend(
            dataclasses.replace(d, timestamp=start) for d in apply_metric_filter(definition, bucket_events)
        )
    return datums


def put_metric_data_requests(datums: Sequence[MetricDatum], resolution_s: int = 60) -> list[dict[str, Any]]:
    """``put_metric_data`` keyword arguments: one namespace per call, statistic sets per datum."""
    by_namespace: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for d in datums:
        entry: dict[str, Any] = {
            "MetricName": d.name,
            "Dimensions": [{"Name": n, "Value": v} for n, v in d.dimensions],
            "Timestamp": d.timestamp,
            "StatisticValues": {
                "SampleCount": float(d.sample_count),
                "Sum": d.sum,
                "Minimum": d.minimum,
                "Maximum": d.maximum,
            },
            "StorageResolution": 1 if resolution_s < 60 else 60,
        }
        if d.unit is not None:
            entry["Unit"] = d.unit
        by_namespace[d.namespace].append(entry)
    return [
        {"Namespace": namespace, "MetricData": entries[i : i + MAX_DATUMS_PER_CALL]}
        for namespace, entries in sorted(by_namespace.items())
        for i in range(0, len(entries), MAX_DATUMS_PER_CALL)
    ]
