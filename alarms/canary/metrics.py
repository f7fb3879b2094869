"""The canary's data edge: samples per function version, for the judge.

One small interface, ``SampleSource.samples(versions, start, end)``, and two backends:

* ``CloudWatchMetricSource`` -- per-period series from CloudWatch metrics. On AWS, Lambda's own
  ``AWS/Lambda`` metrics carry ``ExecutedVersion`` beside ``FunctionName`` and ``Resource``
  (``fn:alias``) for invocations through a weighted alias (``lambda_metric_names``); the app's
  EMF metrics (Powertools Metrics, default dimension ``version`` beside ``service``) work both on
  AWS and on the local stack, whose runtime turns EMF into metrics (``emf_metric_names``). Each
  period gives one sample per metric: errors / invocations, the duration statistic, compensations
  / invocations.
* ``LogReportSource`` -- per-invocation samples from CloudWatch Logs, read as Lambda writes them:
  streams named ``YYYY/MM/DD/[<version>]<id>``, each invocation from its START to its REPORT line
  (``alarms.canary.report_lines`` reads both of Lambda's log formats and tells failures apart).

The dashboard can feed the judge from the audit store later with a third backend of the same
shape. Metric names match ``alarms.canary.judge.default_config``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field

from alarms.canary.report_lines import Invocation, invocations_in_stream, stream_version

#: The judge's metric names (``alarms.canary.judge.default_config``).
ERROR_RATE = "error_rate"
DURATION_MS = "duration_ms"
COMPENSATION_RATE = "compensation_rate"

#: Bounds on reading, so a huge log group or a misbehaving endpoint cannot loop forever.
MAX_STREAMS = 1000
MAX_PAGES_PER_STREAM = 200
MAX_METRIC_PAGES = 100
MAX_QUERIES_PER_CALL = 500  # GetMetricData
#: CloudWatch Logs updates a stream's ``lastEventTimestamp`` "on an eventual consistency basis ...
#: typically in less than an hour" (DescribeLogStreams): a stream is skipped only when older than that.
LAST_EVENT_LAG_MS = 3_600_000


class VersionSamples(BaseModel):
    """What one version did in the window: counts for display, samples per judge metric."""

    model_config = ConfigDict(frozen=True)

    version: str
    invocations: int = Field(ge=0)
    errors: int = Field(ge=0)
    samples: dict[str, list[float]] = Field(default_factory=dict)

    @property
    def error_rate(self) -> float | None:
        return None if self.invocations == 0 else self.errors / self.invocations


class SampleSource(Protocol):
    """Where per-version samples come from; ``samples`` returns one entry per requested version."""

    #: Shown beside a verdict: which data it was computed from.
    name: str

    def samples(
        self, versions: Sequence[str], start: datetime, end: datetime
    ) -> dict[str, VersionSamples]: ...


# --- CloudWatch Logs: Lambda's REPORT lines --------------------------------------------------------


def samples_from_invocations(version: str, invocations: Sequence[Invocation]) -> VersionSamples:
    """Per-invocation samples: 0/1 per invocation for errors, the REPORT duration for duration."""
    return VersionSamples(
        version=version,
        invocations=len(invocations),
        errors=sum(1 for i in invocations if i.failed),
        samples={
            ERROR_RATE: [1.0 if i.failed else 0.0 for i in invocations],
            DURATION_MS: [i.duration_ms for i in invocations],
        },
    )


class LogReportSource:
    """Per-invocation samples from ``/aws/lambda/<function>`` in CloudWatch Logs."""

    name = "cloudwatch-logs"

    def __init__(self, logs_client: Any, function: str) -> None:
        self._client = logs_client
        self._group = f"/aws/lambda/{function}"

    def samples(self, versions: Sequence[str], start: datetime, end: datetime) -> dict[str, VersionSamples]:
        wanted = set(versions)
        start_ms, end_ms = _epoch_ms(start), _epoch_ms(end)
        found: dict[str, list[Invocation]] = {version: [] for version in versions}
        for stream in self._streams(start_ms):
            version = stream_version(stream)
            if version in wanted:
                found[version].extend(invocations_in_stream(self._lines(stream, start_ms, end_ms)))
        return {version: samples_from_invocations(version, found[version]) for version in versions}

    def _streams(self, start_ms: int) -> Iterator[str]:
        """Streams with events since ``start_ms``, newest first (describe's order), at most MAX_STREAMS."""
        kwargs: dict[str, Any] = {"logGroupName": self._group, "orderBy": "LastEventTime", "descending": True}
        seen = 0
        try:
            for page in self._client.get_paginator("describe_log_streams").paginate(**kwargs):
                for stream in page.get("logStreams", []):
                    last = max(
                        stream.get("lastEventTimestamp") or 0,
                        stream.get("lastIngestionTime") or 0,
                        stream.get("creationTime") or 0,
                    )
                    if last + LAST_EVENT_LAG_MS < start_ms or seen >= MAX_STREAMS:
                        return
                    seen += 1
                    yield stream["logStreamName"]
        except self._client.exceptions.ResourceNotFoundException:
            return

    def _lines(self, stream: str, start_ms: int, end_ms: int) -> list[str]:
        """The stream's messages in the window, in order; stops when the forward token repeats (AWS's end)."""
        lines: list[str] = []
        kwargs: dict[str, Any] = {
            "logGroupName": self._group,
            "logStreamName": stream,
            "startTime": start_ms,
            "endTime": end_ms,
            "startFromHead": True,
        }
        token = None
        for _ in range(MAX_PAGES_PER_STREAM):
            page = self._client.get_log_events(**kwargs, **({"nextToken": token} if token else {}))
            lines.extend(event["message"] for event in page.get("events", []))
            following = page.get("nextForwardToken")
            if not following or following == token or not page.get("events"):
                break
            token = following
        return lines


# --- CloudWatch metrics -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricNames:
    """Where a function's per-version metrics are in CloudWatch.

    ``dimensions`` are the fixed ones (exact dimension sets matter in CloudWatch); the version goes
    in ``version_dimension``. ``compensations`` is None when the function emits no such metric.
    """

    namespace: str
    dimensions: Mapping[str, str] = field(default_factory=dict)
    version_dimension: str = "version"
    invocations: str = "Invocations"
    errors: str = "Errors"
    duration: str = "Duration"
    duration_stat: str = "Average"  # "p50" / "p99" on AWS; moto computes only the simple statistics
    compensations: str | None = "SagaCompensations"


def lambda_metric_names(function: str, alias: str) -> MetricNames:
    """Lambda's own metrics per executed version of an alias (AWS only: the local runtime has none)."""
    return MetricNames(
        namespace="AWS/Lambda",
        dimensions={"FunctionName": function, "Resource": f"{function}:{alias}"},
        version_dimension="ExecutedVersion",
        compensations=None,
    )


def emf_metric_names(namespace: str, service: str) -> MetricNames:
    """The app's EMF metrics: Powertools Metrics with ``service`` and the default ``version`` dimension."""
    return MetricNames(namespace=namespace, dimensions={"service": service})


class CloudWatchMetricSource:
    """Per-period samples from ``GetMetricData``: one sample per period that had invocations."""

    name = "cloudwatch-metrics"

    def __init__(self, cloudwatch_client: Any, names: MetricNames, period_s: int = 60) -> None:
        if period_s < 1:
            raise ValueError(f"period_s: must be at least 1 second, got {period_s}")
        self._client = cloudwatch_client
        self._names = names
        self._period_s = period_s

    def samples(self, versions: Sequence[str], start: datetime, end: datetime) -> dict[str, VersionSamples]:
        roles = {
            "inv": (self._names.invocations, "Sum"),
            "err": (self._names.errors, "Sum"),
            "dur": (self._names.duration, self._names.duration_stat),
        }
        if self._names.compensations:
            roles["comp"] = (self._names.compensations, "Sum")
        queries = [
            (f"{role}_{index}", version, role, metric, stat)
            for index, version in enumerate(versions)
            for role, (metric, stat) in roles.items()
        ]
        series = self._fetch(queries, start, end)

        def of(role: str, index: int) -> dict[datetime, float]:
            return series.get(f"{role}_{index}", {})

        # A compensation metric that no version emitted says nothing, rather than "zero compensations".
        any_compensations = any(of("comp", i) for i in range(len(versions)))
        return {
            version: per_period_samples(
                version,
                of("inv", i),
                of("err", i),
                of("dur", i),
                of("comp", i) if any_compensations else None,
            )
            for i, version in enumerate(versions)
        }

    def _fetch(
        self, queries: Sequence[tuple[str, str, str, str, str]], start: datetime, end: datetime
    ) -> dict[str, dict[datetime, float]]:
        series: dict[str, dict[datetime, float]] = {}
        for offset in range(0, len(queries), MAX_QUERIES_PER_CALL):
            chunk = [
                {
                    "Id": query_id,
                    "ReturnData": True,
                    "MetricStat": {
                        "Metric": {
                            "Namespace": self._names.namespace,
                            "MetricName": metric,
                            "Dimensions": [
                                *({"Name": k, "Value": v} for k, v in self._names.dimensions.items()),
                                {"Name": self._names.version_dimension, "Value": version},
                            ],
                        },
                        "Period": self._period_s,
                        "Stat": stat,
                    },
                }
                for query_id, version, _role, metric, stat in queries[offset : offset + MAX_QUERIES_PER_CALL]
            ]
            token: str | None = None
            for _ in range(MAX_METRIC_PAGES):
                answer = self._client.get_metric_data(
                    MetricDataQueries=chunk,
                    StartTime=start,
                    EndTime=end,
                    ScanBy="TimestampAscending",
                    **({"NextToken": token} if token else {}),
                )
                for result in answer.get("MetricDataResults", []):
                    points = series.setdefault(result["Id"], {})
                    for stamp, value in zip(
                        result.get("Timestamps", []), result.get("Values", []), strict=False
                    ):
                        if value is not None:
                            points[stamp] = float(value)
                token = answer.get("NextToken")
                if not token:
                    break
        return series


def per_period_samples(
    version: str,
    invocations: Mapping[datetime, float],
    errors: Mapping[datetime, float],
    durations: Mapping[datetime, float],
    compensations: Mapping[datetime, float] | None,
) -> VersionSamples:
    """One sample per period with invocations: error and compensation rates, and the duration statistic."""
    periods = sorted(stamp for stamp, count in invocations.items() if count > 0)
    samples = {
        ERROR_RATE: [errors.get(stamp, 0.0) / invocations[stamp] for stamp in periods],
        DURATION_MS: [durations[stamp] for stamp in sorted(durations)],
    }
    if compensations is not None:
        samples[COMPENSATION_RATE] = [compensations.get(stamp, 0.0) / invocations[stamp] for stamp in periods]
    return VersionSamples(
        version=version,
        invocations=round(sum(invocations.values())),
        errors=round(sum(errors.values())),
        samples=samples,
    )


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
