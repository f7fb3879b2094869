"""CloudWatch metrics into ``metric_points``: the app's EMF metrics and the alarm-relevant service ones.

Each pass re-reads the last ``metrics_window_s`` seconds in one-minute periods and upserts them: a
minute still filling (or data that arrives late) is corrected by the next pass rather than frozen.
Which metrics: every metric of the app's namespaces (EMF per function and version), and from AWS's
namespaces only those the alarms use (``ALARM_METRICS``), since those namespaces hold many more.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg
from botocore.exceptions import BotoCoreError, ClientError
from psycopg.types.json import Jsonb

from collectors.errors import CollectorError, unreachable
from collectors.partitions import Partitions, day_of

APP_NAMESPACES: tuple[str, ...] = ("sagawatch",)
ALARM_METRICS: dict[str, frozenset[str]] = {
    "AWS/Lambda": frozenset({"Errors", "Invocations", "Throttles", "Duration"}),
    "AWS/ApiGateway": frozenset({"4XXError", "5XXError", "Count", "Latency"}),
}
STATS: tuple[str, ...] = ("Sum", "SampleCount", "Minimum", "Maximum")
PERIOD_S = 60
MAX_QUERIES_PER_CALL = 500


@dataclass(frozen=True)
class MetricId:
    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]  # sorted by name

    @classmethod
    def of(cls, listed: Mapping[str, Any]) -> MetricId:
        dims = tuple(sorted((d["Name"], d["Value"]) for d in listed.get("Dimensions", [])))
        return cls(listed["Namespace"], listed["MetricName"], dims)


@dataclass(frozen=True)
class MetricPoint:
    metric: MetricId
    ts: datetime
    values: dict[str, float]  # stat -> value


@dataclass
class MetricPass:
    points: list[MetricPoint] = field(default_factory=list)
    errors: list[CollectorError] = field(default_factory=list)


# --- pure --------------------------------------------------------------------------------------


def wanted(metric: MetricId, app_namespaces: Sequence[str] = APP_NAMESPACES) -> bool:
    if metric.namespace in app_namespaces:
        return True
    return metric.name in ALARM_METRICS.get(metric.namespace, frozenset())


def queries(metrics: Sequence[MetricId]) -> list[dict[str, Any]]:
    """One ``MetricDataQuery`` per (metric, stat); the id encodes both (``m<index>_<stat index>``)."""
    return [
        {
            "Id": f"m{i}_{j}",
            "MetricStat": {
                "Metric": {
                    "Namespace": m.namespace,
                    "MetricName": m.name,
                    "Dimensions": [{"Name": n, "Value": v} for n, v in m.dimensions],
                },
                "Period": PERIOD_S,
                "Stat": stat,
            },
            "ReturnData": True,
        }
        for i, m in enumerate(metrics)
        for j, stat in enumerate(STATS)
    ]


def points_from_results(
    metrics: Sequence[MetricId], results: Iterable[Mapping[str, Any]]
) -> list[MetricPoint]:
    """Merge per-stat result series back into one point per (metric, timestamp)."""
    merged: dict[tuple[int, datetime], dict[str, float]] = {}
    for result in results:
        index, stat_index = (int(part) for part in result["Id"][1:].split("_"))
        for ts, value in zip(result.get("Timestamps", []), result.get("Values", []), strict=False):
            merged.setdefault((index, ts), {})[STATS[stat_index]] = float(value)
    return [
        MetricPoint(metrics[i], ts, values)
        for (i, ts), values in sorted(merged.items(), key=lambda kv: kv[0])
    ]


def window(now: datetime, seconds: int) -> tuple[datetime, datetime]:
    """[start, end) aligned to whole periods, so each pass sees the same minute buckets."""
    end = now.replace(second=0, microsecond=0) + timedelta(seconds=PERIOD_S)
    return end - timedelta(seconds=seconds + PERIOD_S), end


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- I/O ---------------------------------------------------------------------------------------


class MetricCollector:
    def __init__(
        self, cloudwatch: Any, window_s: int = 900, app_namespaces: Sequence[str] = APP_NAMESPACES
    ) -> None:
        self._cw = cloudwatch
        self._window_s = window_s
        self._app_namespaces = tuple(app_namespaces)

    def run(self, now: datetime) -> MetricPass:
        result = MetricPass()
        metrics: list[MetricId] = []
        for namespace in (*self._app_namespaces, *ALARM_METRICS):
            try:
                for page in self._cw.get_paginator("list_metrics").paginate(Namespace=namespace):
                    metrics.extend(
                        m
                        for m in map(MetricId.of, page.get("Metrics", []))
                        if wanted(m, self._app_namespaces)
                    )
            except (ClientError, BotoCoreError) as exc:
                result.errors.append(unreachable("metrics_unreachable", namespace, exc))
        metrics = sorted(set(metrics), key=lambda m: (m.namespace, m.name, m.dimensions))
        start, end = window(now, self._window_s)
        per_call = MAX_QUERIES_PER_CALL // len(STATS)
        for batch in _chunks(metrics, per_call):
            try:
                results = self._fetch(list(batch), start, end)
            except (ClientError, BotoCoreError) as exc:
                result.errors.append(unreachable("metrics_unreachable", "get_metric_data", exc))
                continue
            result.points.extend(points_from_results(batch, results))
        return result

    def _fetch(self, batch: list[MetricId], start: datetime, end: datetime) -> list[dict[str, Any]]:
        pages = self._cw.get_paginator("get_metric_data").paginate(
            MetricDataQueries=queries(batch), StartTime=start, EndTime=end, ScanBy="TimestampAscending"
        )
        return [r for page in pages for r in page.get("MetricDataResults", [])]


def write_metric_points(
    conn: psycopg.Connection, partitions: Partitions, points: Sequence[MetricPoint]
) -> None:
    if not points:
        return
    partitions.ensure_days(conn, "metric_points", {day_of(p.ts) for p in points})
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO metric_points (namespace, name, dimensions, ts, period_s, sum, sample_count,"
            " minimum, maximum, collected_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, now())"
            " ON CONFLICT (namespace, name, dimensions, period_s, ts) DO UPDATE SET sum = EXCLUDED.sum,"
            " sample_count = EXCLUDED.sample_count, minimum = EXCLUDED.minimum, maximum = EXCLUDED.maximum,"
            " collected_at = EXCLUDED.collected_at",
            [
                (
                    p.metric.namespace, p.metric.name, Jsonb(dict(p.metric.dimensions)), p.ts, PERIOD_S,
                    p.values.get("Sum"), p.values.get("SampleCount"), p.values.get("Minimum"),
                    p.values.get("Maximum"),
                )
                for p in points
            ],
        )  # fmt: skip
