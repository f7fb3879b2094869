"""Send a traffic plan through the API front, ``concurrency`` sagas at a time, and wait for each end.

A direct saga's end is ``POST /customers``'s answer; an async one's is its job
reaching ``SUCCEEDED`` or ``FAILED`` (``GET /jobs/{id}``), then its saga
(``GET /sagas/{id}``, the id derived from the job id). A planned duplicate is
re-sent with the same ``Idempotency-Key`` once the first answer is in, and
must name the same saga or job; a duplicate queue message is handed to
``duplicate_message`` (see ``instrumented_app.traffic.duplicates``) right after
the 202, so both deliveries race. Every wait is bounded by ``job_timeout_s``.

Like a careful client, a request that got no answer naming a saga or job (a
transport error, a 5xx from the front such as a function timeout, or a 409
while the first attempt with that key is still in progress) is sent again
with the same ``Idempotency-Key``, up to ``SEND_ATTEMPTS`` times with jittered
backoff (tenacity): the key makes the retry safe.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_random_exponential

from instrumented_app.jobs.actions import saga_id_for
from instrumented_app.traffic.plan import PlannedSaga
from sagawatch.contracts import CORRELATION_ID_HEADER, IDEMPOTENCY_KEY_HEADER

#: What a run reports when no saga answer came: the API failed, or the job did not end in time.
NO_ANSWER = "NO_ANSWER"
TIMED_OUT = "TIMED_OUT"
JOB_ENDS = frozenset({"SUCCEEDED", "FAILED"})
POLL_INTERVAL_S = 0.25
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

    def by_status(self) -> dict[str, int]:
        return dict(sorted(Counter(outcome.status for outcome in self.outcomes).items()))

    @property
    def sagas_per_second(self) -> float:
        return len(self.outcomes) / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def summary(self) -> str:
        counts = ", ".join(f"{status} {count}" for status, count in self.by_status().items())
        duplicates = [o.duplicate_consistent for o in self.outcomes if o.duplicate_consistent is not None]
        return (
            f"{len(self.outcomes)} sagas in {self.elapsed_s:.1f} s ({self.sagas_per_second:.1f}/s): "
            f"{counts}; "
            f"{sum(duplicates)}/{len(duplicates)} re-sent requests answered with the first saga or job"
        )


def drive(
    api_url: str,
    plan: list[PlannedSaga],
    *,
    concurrency: int = 8,
    job_timeout_s: float = 120.0,
    duplicate_message: Callable[[str], None] | None = None,
    on_outcome: Callable[[Outcome], None] | None = None,
) -> TrafficReport:
    """Run ``plan`` against ``api_url`` (the API front); every saga's outcome, in plan order."""
    if concurrency < 1:
        raise ValueError(f"concurrency: must be at least 1, got {concurrency}")
    limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency)
    started = time.monotonic()
    with (
        httpx.Client(base_url=api_url, timeout=60.0, limits=limits, trust_env=False) as http,
        ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="traffic") as pool,
    ):
        driver = _Driver(http, job_timeout_s, duplicate_message)

        def one(planned: PlannedSaga) -> Outcome:
            outcome = driver.run(planned)
            if on_outcome is not None:
                on_outcome(outcome)
            return outcome

        outcomes = list(pool.map(one, plan))
    return TrafficReport(outcomes=outcomes, elapsed_s=time.monotonic() - started)


@dataclass(frozen=True)
class _Driver:
    http: httpx.Client
    job_timeout_s: float
    duplicate_message: Callable[[str], None] | None

    def run(self, planned: PlannedSaga) -> Outcome:
        started = time.monotonic()
        try:
            outcome = self._direct(planned) if planned.route == "direct" else self._async(planned)
        except httpx.HTTPError as exc:
            outcome = Outcome(planned, NO_ANSWER, reason=f"{type(exc).__name__}: {exc}")
        return Outcome(**{**outcome.__dict__, "elapsed_s": time.monotonic() - started})

    def _post(self, planned: PlannedSaga, path: str) -> httpx.Response:
        """The first response naming a saga or job (or a final refusal); retried with the same key."""
        headers = {
            CORRELATION_ID_HEADER: planned.correlation_id,
            IDEMPOTENCY_KEY_HEADER: planned.idempotency_key,
        }

        def send() -> httpx.Response:
            response = self.http.post(path, json=planned.body(), headers=headers)
            named = {"saga_id", "job_id"} & set(_json(response))
            if not named and (response.status_code >= 500 or response.status_code == 409):
                raise _NoAnswer(response)
            return response

        retrying = Retrying(
            stop=stop_after_attempt(SEND_ATTEMPTS),
            wait=wait_random_exponential(multiplier=0.5, max=8),
            retry=retry_if_exception_type((_NoAnswer, httpx.TransportError)),
            reraise=True,
        )
        try:
            return retrying(send)
        except _NoAnswer as exc:
            return exc.response

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
        deadline = time.monotonic() + self.job_timeout_s
        job: dict[str, Any] = {}
        while time.monotonic() < deadline:
            job = _json(self.http.get(f"/jobs/{job_id}"))
            if job.get("status") in JOB_ENDS:
                return job
            time.sleep(POLL_INTERVAL_S)
        return job


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
