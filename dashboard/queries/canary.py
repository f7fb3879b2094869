"""The canary page's data: per-version invocations, errors and durations over time, and the verdict.

Everything comes from the audit store: ``invocations`` (one row per Lambda REPORT, with the version
the collectors read from the log stream name) and ``metric_points`` (the app's EMF
``SagaCompensations`` with its ``version`` dimension). A function is a canary when two published
versions ran in the window; the older (lower) version is the baseline, the newer the canary, as a
weighted alias routes them. The verdict is ``alarms.canary.judge`` over per-invocation samples (the
same samples its CloudWatch Logs source gives the CLI), so the page and ``sagawatch canary judge``
judge alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import psycopg
from pydantic import BaseModel

from alarms.canary.judge import CanaryResult, default_config, judge
from alarms.canary.metrics import COMPENSATION_RATE, DURATION_MS, ERROR_RATE
from dashboard.db import fetch_all

Conn = psycopg.Connection[dict[str, Any]]
WINDOW = timedelta(hours=1)
#: Per-invocation samples fed to the judge, per version (the newest): bounds the page's work.
SAMPLE_LIMIT = 20_000
COMPENSATIONS_METRIC = "SagaCompensations"
#: What the Lambda runtime writes for an invocation that failed (``alarms.canary.report_lines``,
#: ``is_unhandled_error``): an unhandled exception in text or JSON log format, or a timeout.
_UNHANDLED = (
    "(e.raw LIKE '[ERROR] %%' OR e.raw ~ '^\\S+ \\S+ Task timed out after '"
    " OR (e.raw LIKE '{%%' AND e.raw LIKE '%%\"errorType\"%%' AND e.raw LIKE '%%\"errorMessage\"%%'))"
)
#: An invocation failed when its REPORT says so or when, between its START and its REPORT in its
#: stream, the runtime wrote an unhandled error: Lambda puts ``Status: error`` on the REPORT only when
#: the runtime itself failed, not when the handler raised. The same rule as the CLI's log source, so
#: the page and ``sagawatch canary judge`` count the same failures. Lambda runs 15 minutes at most:
#: the time bounds let PostgreSQL skip the other days' partitions.
_FAILED = (
    "((i.status IS NOT NULL AND i.status <> 'success') OR i.error_type IS NOT NULL OR EXISTS ("
    " SELECT 1 FROM log_lines s JOIN log_lines e ON e.log_group = s.log_group"
    " AND e.log_stream = s.log_stream AND e.seq > s.seq"
    " WHERE s.request_id = i.request_id AND s.log_group = i.log_group AND s.log_stream = i.log_stream"
    " AND s.kind = 'platform' AND s.raw LIKE 'START %%' AND s.seq < i.seq"
    " AND s.ts BETWEEN i.ts - interval '16 minutes' AND i.ts"
    " AND e.seq < i.seq AND e.ts BETWEEN i.ts - interval '16 minutes' AND i.ts + interval '1 minute'"
    f" AND {_UNHANDLED}))"
)


def _judged(failures: bool = True) -> str:
    """The function's invocations of the versions in the window, each with whether it failed (NULL
    when ``failures`` is off: the per-invocation look at the log lines is most of a query's cost)."""
    return (
        f"SELECT i.ts, i.function_version AS version, i.duration_ms,"
        f" {_FAILED if failures else 'NULL::boolean'} AS failed FROM invocations i"
        " WHERE i.function_name = %(fn)s AND i.function_version = ANY(%(versions)s)"
        " AND i.ts >= now() - %(window)s"
    )


class CanaryFunction(BaseModel):
    function: str
    baseline: str
    canary: str


class VersionPoint(BaseModel):
    """One minute of one version: what the side-by-side charts plot."""

    minute: datetime
    version: str
    invocations: int
    #: None when not counted (``version_series(counts_only=True)``).
    errors: int | None
    p50_ms: float | None
    p99_ms: float | None
    compensations: float | None

    @property
    def error_rate(self) -> float | None:
        if self.errors is None:
            return None
        return self.errors / self.invocations if self.invocations else 0.0

    @property
    def compensation_rate(self) -> float | None:
        if self.compensations is None or not self.invocations:
            return None
        return self.compensations / self.invocations


class CanaryVerdict(BaseModel):
    function: str
    baseline: str
    canary: str
    result: CanaryResult


def _version_key(version: str) -> tuple[int, str]:
    return (int(version), version) if version.isdigit() else (1 << 62, version)


def canary_functions(conn: Conn, window: timedelta = WINDOW) -> list[CanaryFunction]:
    """Functions with two or more published versions invoked in ``window``: the two newest versions."""
    rows = fetch_all(
        conn,
        "SELECT function_name, array_agg(DISTINCT function_version) AS versions FROM invocations"
        " WHERE ts >= now() - %s AND function_name IS NOT NULL AND function_version ~ '^[0-9]+$'"
        " GROUP BY function_name HAVING count(DISTINCT function_version) >= 2 ORDER BY function_name",
        (window,),
    )
    found = []
    for row in rows:
        versions = sorted(row["versions"], key=_version_key)
        found.append(
            CanaryFunction(function=row["function_name"], baseline=versions[-2], canary=versions[-1])
        )
    return found


_PERCENTILES = (
    " percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS p50_ms,"
    " percentile_cont(0.99) WITHIN GROUP (ORDER BY duration_ms) AS p99_ms"
)
_NO_PERCENTILES = " NULL::float8 AS p50_ms, NULL::float8 AS p99_ms"


def version_series(
    conn: Conn, pick: CanaryFunction, window: timedelta = WINDOW, *, counts_only: bool = False
) -> list[VersionPoint]:
    """Per minute and version: invocations, errors, p50/p99 duration and compensations (when emitted).

    ``counts_only`` leaves out the percentiles and the errors (the sort and the look at each
    invocation's log lines are most of the query's cost) for callers that need only the invocation
    and compensation counts, such as the overview's verdict.
    """
    rows = fetch_all(
        conn,
        f"WITH judged AS ({_judged(failures=not counts_only)}), inv AS ("
        " SELECT date_trunc('minute', ts) AS minute, version, count(*) AS invocations,"
        f" {'NULL::int8' if counts_only else 'count(*) FILTER (WHERE failed)'} AS errors,"
        f"{_NO_PERCENTILES if counts_only else _PERCENTILES}"
        " FROM judged GROUP BY 1, 2),"
        " comp AS ("
        " SELECT date_trunc('minute', ts) AS minute, dimensions ->> 'version' AS version, sum(sum) AS n"
        " FROM metric_points WHERE name = %(metric)s AND dimensions ->> 'version' = ANY(%(versions)s)"
        " AND (dimensions ->> 'service' IS NULL OR dimensions ->> 'service' = %(fn)s)"
        " AND ts >= now() - %(window)s GROUP BY 1, 2)"
        " SELECT inv.*, comp.n AS compensations FROM inv LEFT JOIN comp USING (minute, version)"
        " ORDER BY minute, version",
        {
            "fn": pick.function,
            "versions": [pick.baseline, pick.canary],
            "window": window,
            "metric": COMPENSATIONS_METRIC,
        },
    )
    return [VersionPoint.model_validate(r) for r in rows]


def _samples(conn: Conn, function: str, version: str, window: timedelta) -> dict[str, list[float]]:
    rows = fetch_all(
        conn,
        f"{_judged()} ORDER BY i.ts DESC LIMIT %(limit)s",
        {"fn": function, "versions": [version], "window": window, "limit": SAMPLE_LIMIT},
    )
    return {
        ERROR_RATE: [1.0 if r["failed"] else 0.0 for r in rows],
        DURATION_MS: [float(r["duration_ms"]) for r in rows if r["duration_ms"] is not None],
    }


def compensation_samples(points: Sequence[VersionPoint], version: str) -> list[float]:
    """Per-minute compensation rates of ``version`` (minutes where it ran and compensations were emitted)."""
    return [rate for p in points if p.version == version and (rate := p.compensation_rate) is not None]


def verdict(
    conn: Conn, pick: CanaryFunction, window: timedelta = WINDOW, points: Sequence[VersionPoint] | None = None
) -> CanaryVerdict:
    """The Kayenta-style judgement of the canary version against the baseline over ``window``.

    ``points`` are the page's ``version_series`` when it has them already (saves the query).
    """
    if points is None:
        points = version_series(conn, pick, window, counts_only=True)
    sides = []
    for version in (pick.baseline, pick.canary):
        samples = _samples(conn, pick.function, version, window)
        compensations = compensation_samples(points, version)
        if compensations:
            samples[COMPENSATION_RATE] = compensations
        sides.append(samples)
    result = judge(default_config(), sides[0], sides[1])
    return CanaryVerdict(function=pick.function, baseline=pick.baseline, canary=pick.canary, result=result)


def verdict_text(v: CanaryVerdict) -> str:
    """A verdict said plainly: 'FAIL (score 33)', or 'not enough data' with the reason."""
    result = v.result
    if result.score is None:
        return "not enough data"
    return f"{result.verdict.value} (score {result.score:.0f})"


#: Worst first: the overview shows the canary that most needs a person.
VERDICT_ORDER = {"FAIL": 0, "MARGINAL": 1, "NOT_ENOUGH_DATA": 2, "PASS": 3}


def overview_verdict(conn: Conn) -> CanaryVerdict | None:
    """For the overview tile: the worst verdict across canaries, or None when no canary runs."""
    picks = canary_functions(conn)
    if not picks:
        return None
    verdicts = [verdict(conn, pick) for pick in picks]
    return min(verdicts, key=lambda v: VERDICT_ORDER[v.result.verdict.value])
