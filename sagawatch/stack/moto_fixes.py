"""Fixes to in-process moto for what the whole stack relies on (the pollers' own are in
``instrumented_app/runtime/pollers/moto_hooks.py``).

``ListMetrics``: CloudWatch lists each metric (namespace, name and set of dimensions) once. moto 5.2
keeps every datum ever put and de-duplicates them by scanning the list built so far, with a
comparison that never matches a metric of two or more dimensions (nor one without dimensions): it
returned one entry per datum, at a cost that grows with the square of the data put. After 300
sagas one call took over 45 s, and the collectors, which list metrics every pass, kept an idle
stack at two thirds of a core. Listing here is one pass with a set, and answers as CloudWatch does.

Only effective where moto runs in this process (``sagawatch up``, the tests); idempotent.
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_installed = False


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


def install_moto_fixes() -> None:
    """Replace moto's ``ListMetrics`` filtering with :func:`list_unique_metrics`; idempotent."""
    global _installed
    with _lock:
        if _installed:
            return
        from moto.cloudwatch.models import CloudWatchBackend

        setattr(CloudWatchBackend, "get_filtered_metrics", list_unique_metrics)  # noqa: B010
        _installed = True
