"""The traffic driver against a fake API front (httpx.MockTransport): what it sends, waits for and reports."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from itertools import islice

import httpx

from instrumented_app.traffic import drive, plan_traffic
from instrumented_app.traffic.driver import poll_intervals
from instrumented_app.traffic.pacing import Pacing
from instrumented_app.traffic.plan import TrafficPlan
from sagawatch.contracts import IDEMPOTENCY_KEY_HEADER


class FakeFront:
    """Answers like the API front: 400 for a body without a string cust_no, a saga or a job otherwise.

    The first request of ``flaky_keys`` gets a 503 naming nothing (a function timeout); jobs are RUNNING
    for ``running_polls`` polls, then SUCCEEDED (``stuck_jobs``: never).
    """

    def __init__(self, *, flaky_keys: frozenset[str] = frozenset(), running_polls: int = 2) -> None:
        self.flaky_keys = set(flaky_keys)
        self.running_polls = running_polls
        self.stuck_jobs = False
        self.accept_bad_input = False
        self.sent: Counter[tuple[str, str]] = Counter()
        self.polls: Counter[str] = Counter()
        self.in_flight = 0
        self.most_in_flight = 0
        self.delay_s = 0.0
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.delay_s:
                time.sleep(self.delay_s)
            return self._answer(request)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _answer(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "GET" and path.startswith("/jobs/"):
            job_id = path.rsplit("/", 1)[1]
            with self._lock:
                self.polls[job_id] += 1
                polls = self.polls[job_id]
            status = "RUNNING" if self.stuck_jobs or polls <= self.running_polls else "SUCCEEDED"
            return httpx.Response(200, json={"job_id": job_id, "status": status})
        if request.method == "GET" and path.startswith("/sagas/"):
            return httpx.Response(200, json={"saga_id": path.rsplit("/", 1)[1], "status": "SUCCEEDED"})
        key = request.headers[IDEMPOTENCY_KEY_HEADER]
        body = json.loads(request.content)
        with self._lock:
            self.sent[(path, key)] += 1
            first = self.sent[(path, key)] == 1
        cust_no = body.get("cust_no")
        if not isinstance(cust_no, str) or " " in cust_no:
            if self.accept_bad_input:
                return httpx.Response(201, json={"saga_id": f"saga-{key}", "status": "SUCCEEDED"})
            return httpx.Response(400, json={"message": "Invalid request body", "field": "cust_no"})
        if first and key in self.flaky_keys:
            if path == "/customers":  # the saga is being run by another process: names it, no status
                return httpx.Response(409, json={"message": "saga is busy", "saga_id": f"saga-{key}"})
            return httpx.Response(503, json={"message": "Internal server error"})
        if path == "/api/async":
            return httpx.Response(202, json={"job_id": f"job-{key}", "status": "PENDING"})
        if cust_no.endswith("3"):
            return httpx.Response(
                409,
                json={"saga_id": f"saga-{key}", "status": "COMPENSATED", "failed_step": "commerce_customer"},
            )
        return httpx.Response(201, json={"saga_id": f"saga-{key}", "status": "SUCCEEDED"})


def no_sleep(_: float) -> None:
    pass


def test_every_planned_saga_ends_in_plan_order_and_bad_input_is_counted_apart() -> None:
    plan = plan_traffic(40, run_id="drv", seed=2, async_share=0.4, duplicate_share=0.2, bad_input_share=0.2)
    first_saga = next(p for p in plan if not p.bad_input and p.route == "direct")
    first_job = next(p for p in plan if not p.bad_input and p.route == "async")
    flaky = first_saga.idempotency_key
    front = FakeFront(flaky_keys=frozenset({flaky, first_job.idempotency_key}))
    report = drive("http://front", plan, concurrency=4, transport=httpx.MockTransport(front), sleep=no_sleep)

    assert [o.planned.index for o in report.outcomes] == list(range(40))
    bad = [o for o in report.outcomes if o.planned.bad_input]
    assert bad and {o.status for o in bad} == {"REFUSED"}
    assert report.bad_input_by_status() == {"REFUSED": len(bad)}
    assert sum(report.by_status().values()) == 40 - len(bad)  # sagas only
    assert set(report.by_status()) <= {"SUCCEEDED", "COMPENSATED"}
    compensated = [o for o in report.sagas if o.planned.route == "direct" and o.planned.cust_no.endswith("3")]
    assert all(
        o.status == "COMPENSATED" and o.reason and "commerce_customer" in o.reason for o in compensated
    )
    # The requests answered 409 busy and 503 were sent again with their keys and then counted as answered.
    assert (
        report.outcomes[first_saga.index].status != "NO_ANSWER"
        and sum(n for (_, k), n in front.sent.items() if k == flaky) >= 2
    )
    assert report.outcomes[first_job.index].job_status == "SUCCEEDED"
    assert front.sent[("/api/async", first_job.idempotency_key)] >= 2
    # Re-sent requests went out twice and named the first saga or job; a refused one went out once.
    duplicates = [o for o in report.sagas if o.planned.duplicate]
    assert duplicates and all(o.duplicate_consistent for o in duplicates)
    assert all(
        front.sent[(p, o.planned.idempotency_key)] == 1
        for o in bad
        for p in ("/customers", "/api/async")
        if (p, o.planned.idempotency_key) in front.sent
    )
    assert f"bad input: {len(bad)}/{len(bad)} refused with 400" in report.summary()


def test_bad_input_that_gets_through_is_reported_as_such() -> None:
    plan = [p for p in plan_traffic(30, run_id="leak", bad_input_share=0.5) if p.bad_input][:3]
    front = FakeFront()
    front.accept_bad_input = True
    front.running_polls = 0
    report = drive("http://front", plan, transport=httpx.MockTransport(front), sleep=no_sleep)
    assert report.bad_input_by_status() == {"BAD_INPUT_ACCEPTED": 3}
    assert "bad input: 0/3 refused with 400" in report.summary()


def test_job_polls_slow_down_and_a_job_that_never_ends_times_out_with_its_last_status() -> None:
    assert list(islice(poll_intervals(), 6)) == [0.25, 0.375, 0.5625, 0.84375, 1.265625, 1.8984375]
    assert list(islice(poll_intervals(), 20))[-1] == 2.0
    plan = [p for p in plan_traffic(20, run_id="stuck", async_share=1.0, duplicate_share=0.0)][:2]
    front = FakeFront()
    front.stuck_jobs = True
    report = drive("http://front", plan, job_timeout_s=0.3, transport=httpx.MockTransport(front))
    assert [(o.status, o.job_status) for o in report.outcomes] == [("TIMED_OUT", "RUNNING")] * 2
    assert all(2 <= polls <= 4 for polls in front.polls.values())  # 0.25 s, then the deadline


def test_rate_and_duration_bound_the_starts_of_an_endless_plan() -> None:
    now = [0.0]

    def clock() -> float:
        return now[0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    plan = TrafficPlan(run_id="paced", async_share=0.0, duplicate_share=0.0)
    front = FakeFront()
    report = drive(
        "http://front",
        plan,
        pacing=Pacing(rate=2.0, duration_s=3.0),
        transport=httpx.MockTransport(front),
        clock=clock,
        sleep=sleep,
    )
    assert len(report.outcomes) == 6  # due at 0, 0.5, ... 2.5 s; the 7th would be due at 3.0 s
    assert now[0] == 2.5


def test_no_more_than_concurrency_requests_are_in_flight() -> None:
    front = FakeFront()
    front.delay_s = 0.02
    plan = plan_traffic(24, run_id="conc", async_share=0.0, duplicate_share=0.0)
    drive("http://front", plan, concurrency=3, transport=httpx.MockTransport(front), sleep=no_sleep)
    assert front.most_in_flight == 3
