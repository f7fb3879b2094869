"""S3 bucket notifications to Lambda: moto builds the event, the runtime invokes (asynchronously).

Why a hook and not a poller: moto 5.2.5 already matches each write against the
bucket's ``LambdaFunctionConfigurations`` (events, prefix/suffix filters) and
builds the notification, but then calls ``LambdaFunction.invoke`` directly,
which wants Docker and fails silently (the Step Functions bridge patches the
backend's ``invoke``, which this path does not go through). Replacing moto's
``_invoke_awslambda`` hands over exactly the events S3 would send (Put, Copy,
multipart, Delete, with moto's filter matching) with no listing or diffing.
It needs moto in this process, as ``sagawatch up`` and the tests run it.

S3 invokes Lambda asynchronously (``Event``): the upload returns at once and
the invocation happens afterwards (a few at once, in no promised order),
retried twice on a function error (Lambda waits about 1 and 2 minutes; here
``retry_delays_s``), then dropped with an error log line.
"""

from __future__ import annotations

import copy
import heapq
import itertools
import queue
import threading
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote_plus, unquote_plus

from instrumented_app.runtime.pollers.base import log
from instrumented_app.runtime.pollers.mappings import function_target
from instrumented_app.runtime.types import Invoker

#: Events waiting for the dispatcher; beyond this an event is dropped with an error (bounded memory).
MAX_QUEUED_EVENTS = 10_000
#: Asynchronous invocations running at once (Lambda scales further; a few are enough on one machine).
ASYNC_WORKERS = 4
#: What S3 puts where a real request carries identities; present so Powertools' S3Model accepts the event.
LOCAL_PRINCIPAL = "AWS:LOCAL"
LOCAL_SOURCE_IP = "127.0.0.1"

_sequence = itertools.count(time.time_ns())
_sinks: list[S3NotificationDispatcher] = []
_sinks_lock = threading.Lock()
_hook_installed = False


def complete_s3_event(event: Mapping[str, Any], *, sequencer: str, request_id: str) -> dict[str, Any]:
    """moto's notification -> the full record S3 sends (identities, request ids, sequencer, key encoding)."""
    completed = copy.deepcopy(dict(event))
    for record in completed.get("Records", []):
        record.setdefault("userIdentity", {"principalId": LOCAL_PRINCIPAL})
        record.setdefault("requestParameters", {"sourceIPAddress": LOCAL_SOURCE_IP})
        record.setdefault("responseElements", {"x-amz-request-id": request_id, "x-amz-id-2": request_id})
        s3 = record.get("s3", {})
        s3.get("bucket", {}).setdefault("ownerIdentity", {"principalId": LOCAL_PRINCIPAL})
        if "object" in s3:
            s3["object"].setdefault("sequencer", sequencer)
            # moto encodes "/" as %2F; S3 form-encodes the key but leaves the slashes.
            s3["object"]["key"] = quote_plus(unquote_plus(s3["object"]["key"]), safe="/")
    return completed


def _hand_over(account_id: str, event_body: Any, fn_arn: str, region_name: str) -> None:
    """Stands in for ``moto.s3.notifications._invoke_awslambda``; runs inside moto's request thread.

    Never raises: as on AWS, a write to S3 does not fail because its notification could not be sent.
    """
    try:
        _hand_over_to_sinks(event_body, fn_arn, region_name)
    except Exception:
        log.exception("S3 notification for %s dropped: it could not be handed over", fn_arn)


def _hand_over_to_sinks(event_body: Any, fn_arn: str, region_name: str) -> None:
    event = complete_s3_event(
        event_body, sequencer=f"{next(_sequence):016X}", request_id=uuid.uuid4().hex[:16]
    )
    with _sinks_lock:
        sinks = [sink for sink in _sinks if sink.region == region_name]
    if not sinks:
        log.warning(
            "S3 notification for %s dropped: no event source pollers running in %s", fn_arn, region_name
        )
    for sink in sinks:
        sink.submit(fn_arn, event)


def install_s3_notification_hook() -> None:
    """Route moto's S3 -> Lambda notifications to the running dispatchers (idempotent)."""
    global _hook_installed
    with _sinks_lock:
        if _hook_installed:
            return
        from moto.s3 import notifications

        setattr(notifications, "_invoke_awslambda", _hand_over)  # noqa: B010 (a module-private function)
        _hook_installed = True


@dataclass(order=True)
class _Due:
    at: float
    attempt: int = field(compare=False)
    function_arn: str = field(compare=False)
    event: dict[str, Any] = field(compare=False)


class S3NotificationDispatcher:
    """Invokes functions with the S3 events handed over, a few at a time, retrying as async Lambda does."""

    def __init__(
        self,
        invoker: Invoker,
        *,
        region: str,
        poll_interval_s: float = 0.2,
        retry_delays_s: tuple[float, ...] = (1.0, 2.0),
        workers: int = ASYNC_WORKERS,
    ) -> None:
        if workers < 1:
            raise ValueError(f"workers: must be >= 1, got {workers}")
        self.region = region
        self._invoker = invoker
        self._poll_interval_s = poll_interval_s
        self._retry_delays_s = retry_delays_s
        self._incoming: queue.Queue[_Due] = queue.Queue(maxsize=MAX_QUEUED_EVENTS)
        self._retries: list[_Due] = []  # a heap, shared with the workers under _retries_lock
        self._retries_lock = threading.Lock()
        self._in_flight = 0  # handed to a worker and not finished; under _retries_lock
        self._workers = workers
        self._free_workers = threading.BoundedSemaphore(workers)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"s3-notifications-{region}")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"s3-notifications-{region}", daemon=True)

    def start(self) -> None:
        install_s3_notification_hook()
        with _sinks_lock:
            _sinks.append(self)
        self._thread.start()

    def stop(self, timeout: float) -> bool:
        """Stop taking events and end the thread; False if it is still running after ``timeout``.

        Invocations already running finish (the invoker bounds them by the function's timeout);
        events still waiting, and retries not yet due, are dropped with one log line.
        """
        with _sinks_lock:
            if self in _sinks:
                _sinks.remove(self)
        self._stop.set()
        deadline = time.monotonic() + timeout
        if self._thread.is_alive():
            self._thread.join(timeout)
        # All workers free means no invocation runs: then the pool's threads end at once.
        idle = all(
            self._free_workers.acquire(timeout=max(0.0, deadline - time.monotonic()))
            for _ in range(self._workers)
        )
        self._pool.shutdown(wait=idle, cancel_futures=True)
        with self._retries_lock:
            dropped = self._incoming.qsize() + len(self._retries)
        if dropped:
            log.warning("%d S3 notifications not delivered: the runtime stopped first", dropped)
        return not self._thread.is_alive()

    def submit(self, function_arn: str, event: dict[str, Any]) -> None:
        try:
            self._incoming.put_nowait(_Due(time.monotonic(), 0, function_arn, event))
        except queue.Full:
            log.error(
                "S3 notification for %s dropped: %d events already waiting", function_arn, MAX_QUEUED_EVENTS
            )

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._free_workers.acquire(timeout=self._poll_interval_s):
                continue
            due = self._next_due()
            if due is None or self._stop.is_set():
                self._free_workers.release()
                continue
            with self._retries_lock:
                self._in_flight += 1
            self._pool.submit(self._deliver, due)

    def _next_due(self) -> _Due | None:
        """A retry whose time has come, else a new event (waiting at most one poll interval)."""
        now = time.monotonic()
        with self._retries_lock:
            if self._retries and self._retries[0].at <= now:
                return heapq.heappop(self._retries)
            wait_s = self._poll_interval_s
            if self._retries:
                wait_s = min(wait_s, self._retries[0].at - now)
        try:
            return self._incoming.get(timeout=max(wait_s, 0.0))
        except queue.Empty:
            return None

    def _deliver(self, due: _Due) -> None:
        try:
            self._invoke(due)
        finally:
            with self._retries_lock:
                self._in_flight -= 1
            self._free_workers.release()

    def idle(self) -> bool:
        """Nothing waiting, running or due for a retry."""
        with self._retries_lock:
            return self._incoming.empty() and not self._retries and self._in_flight == 0

    def _invoke(self, due: _Due) -> None:
        target = function_target(due.function_arn)
        try:
            result = self._invoker.invoke(target.name, due.event, qualifier=target.qualifier)
        except LookupError:
            log.error("S3 notification dropped: function %s not found", target.name)
            return
        except Exception:
            log.exception("S3 notification to %s: the invoker failed", target.name)
            failure = "invoker failure"
        else:
            if result.error is None:
                return
            failure = result.error.error_type
        if due.attempt < len(self._retry_delays_s):
            retry = _Due(
                time.monotonic() + self._retry_delays_s[due.attempt],
                due.attempt + 1,
                due.function_arn,
                due.event,
            )
            with self._retries_lock:
                heapq.heappush(self._retries, retry)
            return
        log.error(
            "S3 notification to %s dropped after %d attempts: %s", target.name, due.attempt + 1, failure
        )
