"""Fixes to in-process moto for what the whole stack relies on (the pollers' own are in
``instrumented_app/runtime/pollers/moto_hooks.py``).

``ListMetrics``: CloudWatch lists each metric (namespace, name and set of dimensions) once. moto 5.2
keeps every datum ever put and de-duplicates them by scanning the list built so far, with a
comparison that never matches a metric of two or more dimensions (nor one without dimensions): it
returned one entry per datum, at a cost that grows with the square of the data put. After 300
sagas one call took over 45 s, and the collectors, which list metrics every pass, kept an idle
stack at two thirds of a core. Listing here is one pass with a set, and answers as CloudWatch does.

``GetMetricData``: moto compares every datum in the time range with every query in every period,
and, when a query names dimensions, forgets to compare the namespace. With 20,000 data in the
collectors' 15-minute window one collector pass took 40 s. Here each query is answered by moto's
own code over the data of its namespace and metric name only, grouped once per call: the same
statistics, the namespace respected, and a pass that costs the data once rather than once per query.

Only effective where moto runs in this process (``sagawatch up``, the tests); idempotent.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any

_lock = threading.Lock()
_installed = False
#: The data ``get_all_metrics`` gives while one query of ``GetMetricData`` is answered (per thread:
#: moto serves requests on several).
_only = threading.local()


def _metric_key(datum: Any) -> tuple[str, str, frozenset[tuple[str, str]]]:
    return (datum.namespace, datum.name, frozenset((d.name, d.value) for d in datum.dimensions))


def list_unique_metrics(
    self: Any, metric_name: str | None, namespace: str | None, dimensions: list[dict[str, str]] | None
) -> list[Any]:
    """moto's ``get_filtered_metrics`` with CloudWatch's answer: each metric once, first datum kept.

    A dimension filter without a value matches any value of that dimension, as on CloudWatch.
    """
    from moto.cloudwatch.models import Dimension

    wanted = [Dimension(d["Name"], d.get("Value")) for d in dimensions or []]
    seen: set[tuple[str, str, frozenset[tuple[str, str]]]] = set()
    listed: list[Any] = []
    for datum in self.get_all_metrics():
        if (namespace and datum.namespace != namespace) or (metric_name and datum.name != metric_name):
            continue
        if any(dimension not in datum.dimensions for dimension in wanted):
            continue
        key = _metric_key(datum)
        if key not in seen:
            seen.add(key)
            listed.append(datum)
    return listed


def _all_metrics_or_only(original: Callable[[Any], list[Any]]) -> Callable[[Any], list[Any]]:
    def get_all_metrics(self: Any) -> list[Any]:
        only: list[Any] | None = getattr(_only, "data", None)
        return only if only is not None else original(self)

    return get_all_metrics


def _metric_data_per_query(original: Callable[..., list[dict[str, Any]]]) -> Callable[..., Any]:
    def get_metric_data(
        self: Any,
        queries: list[dict[str, Any]],
        start_time: datetime,
        end_time: datetime,
        scan_by: str = "TimestampAscending",
    ) -> list[dict[str, Any]]:
        if not queries or any("MetricStat" not in query for query in queries):
            # Expressions refer to other queries' ids: those calls go to moto as they came.
            return original(self, queries, start_time, end_time, scan_by)
        start, end = start_time.replace(microsecond=0), end_time.replace(microsecond=0)
        grouped: dict[tuple[str, str], list[Any]] = defaultdict(list)
        for datum in self.get_all_metrics():
            if start <= datum.timestamp < end:
                grouped[(datum.namespace, datum.name)].append(datum)
        results: list[dict[str, Any]] = []
        for query in queries:
            metric = query["MetricStat"]["Metric"]
            _only.data = grouped.get((metric["Namespace"], metric["MetricName"]), [])
            try:
                results.extend(original(self, [query], start_time, end_time, scan_by))
            finally:
                _only.data = None
        return results

    return get_metric_data


def install_moto_fixes() -> None:
    """Replace moto's ``ListMetrics`` filtering and wrap its ``GetMetricData``; idempotent."""
    global _installed
    with _lock:
        if _installed:
            return
        from moto.cloudwatch.models import CloudWatchBackend

        setattr(CloudWatchBackend, "get_filtered_metrics", list_unique_metrics)  # noqa: B010
        every = _all_metrics_or_only(CloudWatchBackend.get_all_metrics)
        setattr(CloudWatchBackend, "get_all_metrics", every)  # noqa: B010
        per_query = _metric_data_per_query(CloudWatchBackend.get_metric_data)
        setattr(CloudWatchBackend, "get_metric_data", per_query)  # noqa: B010
        _installed = True
