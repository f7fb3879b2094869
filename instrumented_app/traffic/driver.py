"""Send a traffic plan through the API front, ``concurrency`` sagas at a time, and wait for each end.

A direct saga's end is ``POST /customers``'s answer; an async one's is its job
reaching ``SUCCEEDED`` or ``FAILED`` (``GET /jobs/{id}``), then its saga
(``GET /sagas/{id}``, the id derived from the job id). A planned duplicate is
re-sent with the same ``Idempotency-Key`` once the first answer is in, and
must name the same saga or job; a duplicate queue message is handed to
``duplicate_message`` (see ``instrumented_app.traffic.duplicates``) right after
the 202, so both deliveries race. Every wait is bounded by ``job_timeout_s``.

Like a careful client, a request that got no answer stating a saga's or job's
status (a transport error, a 5xx from the front such as a function timeout, or
a 409 while the first attempt with that key is still in progress) is sent again
with the same ``Idempotency-Key``, up to ``SEND_ATTEMPTS`` times with jittered
backoff (tenacity): the key makes the retry safe.

A ``bad_input`` saga's invalid body must be refused by the API front with
400 (``REFUSED``); anything else is ``BAD_INPUT_ACCEPTED``. Both are counted
apart from the sagas. Job status is polled with a growing interval (every
poll is a Lambda invocation with its logs, spans and metrics), bounded by
``job_timeout_s``; starts are paced by ``Pacing`` (``--rate``, ``--duration``).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from instrumented_app.jobs.actions import saga_id_for
from instrumented_app.traffic.pacing import Pacing
from instrumented_app.traffic.plan import PlannedSaga
from sagawatch.contracts import CORRELATION_ID_HEADER, IDEMPOTENCY_KEY_HEADER

#: What a run reports when no saga answer came: the API failed, or the job did not end in time.
NO_ANSWER = "NO_ANSWER"
TIMED_OUT = "TIMED_OUT"
#: What a run reports for a bad-input request: refused by the gatekeeper (400), or wrongly let through.
REFUSED = "REFUSED"
BAD_INPUT_ACCEPTED = "BAD_INPUT_ACCEPTED"
JOB_ENDS = frozenset({"SUCCEEDED", "FAILED"})
#: Job polls start this often and slow down by ``POLL_GROWTH`` up to ``POLL_MAX_S``.
POLL_INTERVAL_S = 0.25
POLL_GROWTH = 1.5
POLL_MAX_S = 2.0
#: Sends of one request (the first and its retries) before it counts as unanswered.
SEND_ATTEMPTS = 5


class _NoAnswer(Exception):
    """A response that names no saga or job and may be retried with the same key."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}: {response.text[:200]}")
        self.response = response


@dataclass(frozen=True)
class Outcome:
    """How one planned saga ended, as a client sees it."""

    planned: PlannedSaga
    status: str
    saga_id: str | None = None
    job_id: str | None = None
    job_status: str | None = None
    reason: str | None = None
    #: Whether the re-sent request named the same saga/job; None when none was re-sent.
    duplicate_consistent: bool | None = None
    elapsed_s: float = 0.0


@dataclass
class TrafficReport:
    outcomes: list[Outcome] = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def sagas(self) -> list[Outcome]:
        """The outcomes of real sagas (bad-input requests left out: they start none)."""
        return [outcome for outcome in self.outcomes if outcome.planned.bad_input is None]

    @property
    def bad_inputs(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.planned.bad_input is not None]

    def by_status(self) -> dict[str, int]:
        """Sagas by final status (bad-input requests are counted by ``bad_input_by_status``)."""
        return dict(sorted(Counter(outcome.status for outcome in self.sagas).items()))

    def bad_input_by_status(self) -> dict[str, int]:
        return dict(sorted(Counter(outcome.status for outcome in self.bad_inputs).items()))

    @property
    def sagas_per_second(self) -> float:
        return len(self.sagas) / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def summary(self) -> str:
        counts = ", ".join(f"{status} {count}" for status, count in self.by_status().items()) or "none"
        duplicates = [o.duplicate_consistent for o in self.outcomes if o.duplicate_consistent is not None]
        text = (
            f"{len(self.sagas)} sagas in {self.elapsed_s:.1f} s ({self.sagas_per_second:.1f}/s): "
            f"{counts}; "
            f"{sum(duplicates)}/{len(duplicates)} re-sent requests answered with the first saga or job"
        )
        bad = self.bad_input_by_status()
        if bad:
            refused = bad.get(REFUSED, 0)
            text += f"; bad input: {refused}/{sum(bad.values())} refused with 400"
        return text


def drive(
    api_url: str,
    plan: Iterable[PlannedSaga],
    *,
    concurrency: int = 8,
    pacing: Pacing | None = None,
    job_timeout_s: float = 120.0,
    duplicate_message: Callable[[str], None] | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
    transport: httpx.BaseTransport | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> TrafficReport:
    """Run ``plan`` against ``api_url`` (the API front), at most ``concurrency`` sagas in flight and
    starts paced by ``pacing``; every started saga's outcome, in plan order. ``plan`` may be endless
    when ``pacing`` has a duration."""
    if concurrency < 1:
        raise ValueError(f"concurrency: must be at least 1, got {concurrency}")
    if job_timeout_s <= 0:
        raise ValueError(f"job_timeout_s: must be positive, got {job_timeout_s}")
    pacing = pacing or Pacing()
    limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency)
    slots = threading.BoundedSemaphore(concurrency)
    started = clock()
    futures: list[Future[Outcome]] = []
    with (
        httpx.Client(
            base_url=api_url, timeout=60.0, limits=limits, trust_env=False, transport=transport
        ) as http,
        ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="traffic") as pool,
    ):
        driver = _Driver(http, job_timeout_s, duplicate_message, sleep)

        def one(planned: PlannedSaga) -> Outcome:
            try:
                outcome = driver.run(planned)
                if on_outcome is not None:
                    on_outcome(outcome)
                return outcome
            finally:
                slots.release()

        for planned in plan:
            wait = pacing.wait_s(started, len(futures), clock())
            if wait is None:
                break
            if wait > 0:
                sleep(wait)
            slots.acquire()  # a slot frees when a saga ends, each end bounded by job_timeout_s
            if not pacing.open(started, clock()):
                slots.release()
                break
            futures.append(pool.submit(one, planned))
        outcomes = [future.result() for future in futures]
    return TrafficReport(outcomes=outcomes, elapsed_s=clock() - started)


@dataclass(frozen=True)
class _Driver:
    http: httpx.Client
    job_timeout_s: float
    duplicate_message: Callable[[str], None] | None
    sleep: Callable[[float], None] = time.sleep

    def run(self, planned: PlannedSaga) -> Outcome:
        started = time.monotonic()
        try:
            if planned.bad_input is not None:
                outcome = self._bad_input(planned)
            elif planned.route == "direct":
                outcome = self._direct(planned)
            else:
                outcome = self._async(planned)
        except httpx.HTTPError as exc:
            outcome = Outcome(planned, NO_ANSWER, reason=f"{type(exc).__name__}: {exc}")
        return Outcome(**{**outcome.__dict__, "elapsed_s": time.monotonic() - started})

    def _post(self, planned: PlannedSaga, path: str) -> httpx.Response:
        """The first response naming a saga or job (or a final refusal); retried with the same key."""
        headers = _headers(planned)

        def send() -> httpx.Response:
            response = self.http.post(path, json=planned.body(), headers=headers)
            # An answer states a saga's or job's status; a 5xx or 409 without one (a function timeout,
            # the first request with this key still running, the saga run by another process) is not.
            if "status" not in _json(response) and (
                response.status_code >= 500 or response.status_code == 409
            ):
                raise _NoAnswer(response)
            return response

        retrying = Retrying(
            stop=stop_after_attempt(SEND_ATTEMPTS),
            wait=wait_random_exponential(multiplier=0.5, max=8),
            retry=retry_if_exception_type((_NoAnswer, httpx.TransportError)),
            sleep=self.sleep,
            reraise=True,
        )
        try:
            return retrying(send)
        except _NoAnswer as exc:
            return exc.response

    def _bad_input(self, planned: PlannedSaga) -> Outcome:
        """Sent once (a 400 is final): REFUSED when the front said 400, else what let it through."""
        path = "/customers" if planned.route == "direct" else "/api/async"
        response = self.http.post(path, json=planned.body(), headers=_headers(planned))
        if response.status_code == 400:
            return Outcome(planned, REFUSED, reason=response.text[:200])
        return Outcome(
            planned, BAD_INPUT_ACCEPTED, reason=f"HTTP {response.status_code}: {response.text[:200]}"
        )

    def _direct(self, planned: PlannedSaga) -> Outcome:
        first = self._post(planned, "/customers")
        answer = _json(first)
        if "saga_id" not in answer:
            return Outcome(planned, NO_ANSWER, reason=f"HTTP {first.status_code}: {first.text[:200]}")
        consistent = None
        if planned.duplicate:
            again = _json(self._post(planned, "/customers"))
            consistent = again.get("saga_id") == answer["saga_id"]
        return Outcome(
            planned,
            str(answer["status"]),
            saga_id=str(answer["saga_id"]),
            reason=_reason(answer),
            duplicate_consistent=consistent,
        )

    def _async(self, planned: PlannedSaga) -> Outcome:
        accepted = self._post(planned, "/api/async")
        answer = _json(accepted)
        if accepted.status_code != 202 or "job_id" not in answer:
            return Outcome(planned, NO_ANSWER, reason=f"HTTP {accepted.status_code}: {accepted.text[:200]}")
        job_id = str(answer["job_id"])
        if planned.duplicate_message and self.duplicate_message is not None:
            self.duplicate_message(job_id)
        consistent = None
        if planned.duplicate:
            consistent = _json(self._post(planned, "/api/async")).get("job_id") == job_id
        job = self._wait_for_job(job_id)
        saga_id = saga_id_for(job_id)
        if job.get("status") not in JOB_ENDS:
            return Outcome(
                planned, TIMED_OUT, saga_id, job_id, job.get("status"), job.get("last_error"), consistent
            )
        saga = _json(self.http.get(f"/sagas/{saga_id}"))
        status = str(saga.get("status") or f"JOB_{job['status']}")
        reason = _reason(saga) if "status" in saga else job.get("last_error")
        return Outcome(planned, status, saga_id, job_id, str(job["status"]), reason, consistent)

    def _wait_for_job(self, job_id: str) -> dict[str, Any]:
        """The job once it ended, or as last seen when ``job_timeout_s`` ran out."""
        deadline = time.monotonic() + self.job_timeout_s
        job: dict[str, Any] = {}
        for interval in poll_intervals():
            job = _json(self.http.get(f"/jobs/{job_id}"))
            left = deadline - time.monotonic()
            if job.get("status") in JOB_ENDS or left <= 0:
                return job
            self.sleep(min(interval, left))
        raise AssertionError("unreachable: poll_intervals() never ends")


def poll_intervals() -> Iterator[float]:
    """0.25 s, then 1.5 times longer each time, at most 2 s: quick for quick jobs, cheap for slow ones."""
    interval = POLL_INTERVAL_S
    while True:
        yield interval
        interval = min(interval * POLL_GROWTH, POLL_MAX_S)


def _headers(planned: PlannedSaga) -> dict[str, str]:
    return {CORRELATION_ID_HEADER: planned.correlation_id, IDEMPOTENCY_KEY_HEADER: planned.idempotency_key}


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _reason(answer: dict[str, Any]) -> str | None:
    if answer.get("status") == "SUCCEEDED":
        return None
    failed = answer.get("failed_step")
    error = answer.get("error")
    return f"{failed}: {error}" if failed else (str(error) if error else None)
