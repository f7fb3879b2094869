"""Embedded Metric Format: log lines -> CloudWatch metrics, as CloudWatch Logs does for Lambda output.

A handler using Powertools Metrics prints one JSON object per flush, with an
``_aws.CloudWatchMetrics`` directive naming the namespace, dimension sets and
metrics; the values are top-level members. ``parse_emf`` turns one such line into
``MetricDatum`` values (pure); ``EmfMetricShipper`` sends them with
``put_metric_data``. A malformed blob is skipped and counted, never fatal, as in
CloudWatch (which drops it and carries on).

Reference: the EMF specification
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from instrumented_app.runtime.logs import LogEvent

log = logging.getLogger(__name__)

#: The units put_metric_data accepts (CloudWatch StandardUnit).
UNITS = frozenset(
    {
        "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
        "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
        "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
        "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second",
        "Count/Second", "None",
    }
)  # fmt: skip
MAX_DIMENSIONS = 30  # per dimension set (EMF specification)
MAX_VALUES_PER_METRIC = 100  # per metric per blob (EMF specification)
MAX_DATUMS_PER_CALL = 1000  # put_metric_data
MAX_VALUES_PER_DATUM = 150  # put_metric_data ``Values``


class EmfError(ValueError):
    """A line that claims to be EMF but is not valid; the message names the field."""


@dataclass(frozen=True)
class MetricDatum:
    namespace: str
    name: str
    values: tuple[float, ...]
    dimensions: tuple[tuple[str, str], ...]  # (name, value) in the directive's order
    unit: str = "None"
    timestamp_ms: int | None = None
    storage_resolution: int = 60


def looks_like_emf(line: str) -> bool:
    """Cheap pre-check so ordinary log lines are not JSON-parsed twice."""
    return line.startswith("{") and '"_aws"' in line


def parse_emf(line: str) -> list[MetricDatum]:
    """One EMF blob -> one datum per (directive, dimension set, metric); [] for JSON that is not EMF.

    Raises ``EmfError`` for a blob with an ``_aws`` member that is not valid EMF.
    """
    try:
        blob = json.loads(line)
    except json.JSONDecodeError as exc:
        raise EmfError(f"not JSON: {exc}") from exc
    if not isinstance(blob, dict):
        raise EmfError("root: expected a JSON object")
    if "_aws" not in blob:
        return []  # an ordinary JSON log line that merely mentions "_aws" somewhere: not EMF
    meta = _field(blob, "_aws", dict, "root")
    timestamp = meta.get("Timestamp")
    if timestamp is not None and (isinstance(timestamp, bool) or not isinstance(timestamp, int)):
        raise EmfError("_aws.Timestamp: expected epoch milliseconds (an integer)")
    directives = _field(meta, "CloudWatchMetrics", list, "_aws")
    datums: list[MetricDatum] = []
    for i, directive in enumerate(directives):
        where = f"_aws.CloudWatchMetrics[{i}]"
        if not isinstance(directive, dict):
            raise EmfError(f"{where}: expected an object")
        datums.extend(_directive(blob, directive, where, timestamp))
    return datums


def _field(obj: dict[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in obj:
        raise EmfError(f"{where}.{key}: missing")
    value = obj[key]
    if not isinstance(value, kind):
        raise EmfError(f"{where}.{key}: expected {kind.__name__}, got {type(value).__name__}")
    return value


def _directive(
    blob: dict[str, Any], directive: dict[str, Any], where: str, ts: int | None
) -> list[MetricDatum]:
    namespace = _field(directive, "Namespace", str, where)
    if not namespace:
        raise EmfError(f"{where}.Namespace: empty")
    dimension_sets = [
        _dimension_set(blob, s, f"{where}.Dimensions[{j}]")
        for j, s in enumerate(_field(directive, "Dimensions", list, where))
    ] or [()]
    datums = []
    for k, metric in enumerate(_field(directive, "Metrics", list, where)):
        name, unit, resolution = _metric_definition(metric, f"{where}.Metrics[{k}]")
        values = _values(blob, name)
        for dimensions in dimension_sets:
            datums.append(MetricDatum(namespace, name, values, dimensions, unit, ts, resolution))
    return datums


def _dimension_set(blob: dict[str, Any], names: Any, where: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise EmfError(f"{where}: expected a list of dimension names")
    if len(names) > MAX_DIMENSIONS:
        raise EmfError(f"{where}: {len(names)} dimensions, over the limit of {MAX_DIMENSIONS}")
    pairs = []
    for name in names:
        value = blob.get(name)
        if not isinstance(value, str) or not value:
            raise EmfError(f"{name}: dimension value missing or not a non-empty string")
        pairs.append((name, value))
    return tuple(pairs)


def _metric_definition(metric: Any, where: str) -> tuple[str, str, int]:
    if not isinstance(metric, dict):
        raise EmfError(f"{where}: expected an object")
    name = _field(metric, "Name", str, where)
    unit = metric.get("Unit", "None")
    if unit not in UNITS:
        raise EmfError(f"{where}.Unit: {unit!r} is not a CloudWatch unit")
    resolution = metric.get("StorageResolution", 60)
    if resolution not in (1, 60):
        raise EmfError(f"{where}.StorageResolution: must be 1 or 60, got {resolution!r}")
    return name, unit, int(resolution)


def _values(blob: dict[str, Any], name: str) -> tuple[float, ...]:
    if name not in blob:
        raise EmfError(f"{name}: metric value missing")
    raw = blob[name]
    items = raw if isinstance(raw, list) else [raw]
    if not items or len(items) > MAX_VALUES_PER_METRIC:
        raise EmfError(f"{name}: expected 1 to {MAX_VALUES_PER_METRIC} values, got {len(items)}")
    values = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int | float) or not math.isfinite(item):
            raise EmfError(f"{name}: value {item!r} is not a finite number")
        values.append(float(item))
    return tuple(values)


def put_metric_data_requests(datums: Sequence[MetricDatum]) -> Iterator[dict[str, Any]]:
    """``put_metric_data`` keyword arguments for these datums: one namespace per call, within limits."""
    by_namespace: dict[str, list[dict[str, Any]]] = {}
    for datum in datums:
        for start in range(0, len(datum.values), MAX_VALUES_PER_DATUM):
            entry: dict[str, Any] = {
                "MetricName": datum.name,
                "Dimensions": [{"Name": n, "Value": v} for n, v in datum.dimensions],
                "Values": list(datum.values[start : start + MAX_VALUES_PER_DATUM]),
                "Unit": datum.unit,
                "StorageResolution": datum.storage_resolution,
            }
            if datum.timestamp_ms is not None:
                entry["Timestamp"] = datetime.fromtimestamp(datum.timestamp_ms / 1000, UTC)
            by_namespace.setdefault(datum.namespace, []).append(entry)
    for namespace, entries in by_namespace.items():
        for start in range(0, len(entries), MAX_DATUMS_PER_CALL):
            yield {"Namespace": namespace, "MetricData": entries[start : start + MAX_DATUMS_PER_CALL]}


class EmfMetricShipper:
    """A ``LogShipper`` consumer: extracts EMF from shipped log events and puts the metrics."""

    def __init__(self, cloudwatch_client: Any) -> None:
        self._client = cloudwatch_client
        self.malformed_blobs = 0
        self.metrics_put = 0

    def __call__(self, group: str, events: Sequence[LogEvent]) -> None:
        self.ship(e.message for e in events)

    def ship(self, lines: Iterable[str]) -> None:
        datums: list[MetricDatum] = []
        for line in lines:
            if not looks_like_emf(line):
                continue
            try:
                datums.extend(parse_emf(line))
            except EmfError as exc:
                self.malformed_blobs += 1
                log.warning("skipped a malformed EMF blob: %s", exc)
        for request in put_metric_data_requests(datums):
            self._client.put_metric_data(**request)
            self.metrics_put += len(request["MetricData"])
