"""``ReconcileSchedule``: runs on an interval, never two at once, stops promptly."""

from __future__ import annotations

import time

import httpx

from reconciler.config import ReconcileSettings
from reconciler.lock import run_lock
from reconciler.schedule import ReconcileSchedule
from sagawatch.settings import Settings

from .world import copy_for, insert_rows, load, mirror_everywhere, row


def _schedule(aurora_url: str, audit_url: str, urls: dict[str, str], interval_s: float) -> ReconcileSchedule:
    settings = Settings(database_url=aurora_url, audit_database_url=audit_url)
    return ReconcileSchedule(settings, None, interval_s, ReconcileSettings(grace_s=0, saas_urls=urls))


def test_runs_repeat_on_the_interval_and_stop_is_prompt(
    aurora_url: str, audit_url: str, saas_urls: dict[str, str], admin: httpx.Client
) -> None:
    rows = [row(n) for n in range(5)]
    insert_rows(aurora_url, rows)
    mirror_everywhere(admin, saas_urls, rows)
    schedule = _schedule(aurora_url, audit_url, saas_urls, 0.2)
    schedule.start()
    deadline = time.monotonic() + 20
    while schedule.runs < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    began = time.monotonic()
    schedule.stop()
    assert time.monotonic() - began < 10
    assert schedule.runs >= 2 and schedule.last_error is None
    assert schedule.last_result is not None and schedule.last_result.status == "clean"


def test_a_run_due_while_another_holds_the_lock_is_skipped(
    aurora_url: str, audit_url: str, saas_urls: dict[str, str]
) -> None:
    schedule = _schedule(aurora_url, audit_url, saas_urls, 60)
    with run_lock(audit_url):
        assert schedule.run_once() is None
    assert (schedule.skipped, schedule.runs) == (1, 0)
    assert schedule.run_once() is not None
    assert schedule.runs == 1


def test_the_open_findings_count_goes_to_cloudwatch_zero_included(
    aurora_url: str, audit_url: str, saas_urls: dict[str, str], admin: httpx.Client
) -> None:
    """The standard DriftFindings alarm reads this count; it must also hear 0 to clear."""
    from reconciler.metrics import publish_open_findings

    class RecordingCloudWatch:
        def __init__(self) -> None:
            self.values: list[float] = []

        def put_metric_data(self, Namespace: str, MetricData: list[dict[str, object]]) -> None:
            assert (Namespace, MetricData[0]["MetricName"]) == ("sagawatch/audit", "DriftFindings")
            self.values.append(float(MetricData[0]["Value"]))  # type: ignore[arg-type]

    cloudwatch = RecordingCloudWatch()
    assert publish_open_findings(cloudwatch, audit_url) == 0
    rows = [row(n) for n in range(3)]
    insert_rows(aurora_url, rows)
    for system in ("support", "commerce"):  # and none in membership: three missing_in_saas
        load(admin, saas_urls[system], [copy_for(system, r) for r in rows])
    result = _schedule(aurora_url, audit_url, saas_urls, 60).run_once()
    assert result is not None and len(result.findings) == 3  # missing in membership
    assert publish_open_findings(cloudwatch, audit_url) == 3
    assert cloudwatch.values == [0.0, 3.0]
