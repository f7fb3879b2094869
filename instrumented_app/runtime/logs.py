"""Ship invocation output to CloudWatch Logs the way Lambda does, without slowing the invoke path.

The invoker hands each invocation's lines (START, the handler's own lines, END,
REPORT) to ``LogShipper.submit``, which only puts them on a bounded queue. A
background thread creates ``/aws/lambda/<fn>`` and the environment's stream when
they are missing, cuts the lines into ``put_log_events`` calls that respect the
service limits, and then hands them to consumers (the EMF extractor), as CloudWatch
Logs does with metrics embedded in Lambda output.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

log = logging.getLogger(__name__)

#: put_log_events limits (CloudWatch Logs API reference).
MAX_EVENTS_PER_CALL = 10_000
MAX_BYTES_PER_CALL = 1_048_576
EVENT_OVERHEAD_BYTES = 26
MAX_EVENT_BYTES = 256 * 1024 - EVENT_OVERHEAD_BYTES
TRUNCATED = " [truncated]"


@dataclass(frozen=True)
class LogEvent:
    timestamp_ms: int
    message: str


#: Called on the shipper thread with (log group, the events just shipped).
LogConsumer = Callable[[str, Sequence[LogEvent]], None]


def _fit(event: LogEvent) -> tuple[LogEvent, int]:
    """The event as CloudWatch accepts it (over-long messages cut), with its billed size."""
    data = event.message.encode("utf-8")
    if len(data) > MAX_EVENT_BYTES:
        keep = MAX_EVENT_BYTES - len(TRUNCATED)
        event = LogEvent(event.timestamp_ms, data[:keep].decode("utf-8", "ignore") + TRUNCATED)
        data = event.message.encode("utf-8")
    return event, len(data) + EVENT_OVERHEAD_BYTES


def batches(events: Sequence[LogEvent]) -> Iterator[list[LogEvent]]:
    """Split events into chronological ``put_log_events`` batches within the count and byte limits.

    Empty messages are left out: the API refuses them.
    """
    batch: list[LogEvent] = []
    size = 0
    for event in sorted((e for e in events if e.message), key=lambda e: e.timestamp_ms):
        fitted, event_size = _fit(event)
        if batch and (len(batch) >= MAX_EVENTS_PER_CALL or size + event_size > MAX_BYTES_PER_CALL):
            yield batch
            batch, size = [], 0
        batch.append(fitted)
        size += event_size
    if batch:
        yield batch


@dataclass
class ShipperStats:
    shipped_events: int = 0
    dropped_events: int = 0  # the queue was full
    failed_events: int = 0  # CloudWatch Logs refused them or could not be reached


_STOP = object()


class LogShipper:
    """A background thread that ships queued log events to CloudWatch Logs."""

    def __init__(
        self,
        logs_client: Any,
        *,
        consumers: Sequence[LogConsumer] = (),
        max_pending: int = 10_000,
        linger_s: float = 0.2,
    ) -> None:
        self._client = logs_client
        self._consumers = list(consumers)
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max_pending)
        self._linger_s = linger_s
        self._wake = threading.Event()
        self._known: set[tuple[str, str]] = set()  # (group, stream) made; (group, "") for a group
        self.stats = ShipperStats()
        self._retrying = Retrying(
            stop=stop_after_attempt(3),
            wait=wait_exponential(multiplier=0.05, max=0.5),
            retry=retry_if_exception_type((EndpointConnectionError, ConnectionClosedError)),
            reraise=True,
        )
        self._thread = threading.Thread(target=self._run, name="log-shipper", daemon=True)
        self._thread.start()

    def submit(self, group: str, stream: str, events: Sequence[LogEvent]) -> bool:
        """Queue events for shipping; never blocks. False (and counted) when the queue is full."""
        try:
            self._queue.put_nowait((group, stream, list(events)))
        except queue.Full:
            self.stats.dropped_events += len(events)
            return False
        return True

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until everything queued so far is shipped; False if that took longer than ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        self._wake.set()
        with self._queue.all_tasks_done:
            while self._queue.unfinished_tasks:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._queue.all_tasks_done.wait(remaining)
        return True

    def close(self, timeout_s: float = 10.0) -> None:
        self.flush(timeout_s)
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._wake.set()
            self._thread.join(timeout_s)

    def _run(self) -> None:
        while True:
            items = [self._queue.get()]
            while True:  # take everything queued by now: fewer, fuller calls
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = any(item is _STOP for item in items)
            merged: dict[tuple[str, str], list[LogEvent]] = {}
            for item in items:
                if item is not _STOP:
                    group, stream, events = item
                    merged.setdefault((group, stream), []).extend(events)
            for (group, stream), events in merged.items():
                try:
                    self._ship(group, stream, events)
                except Exception:  # one bad batch must not stop the shipper
                    log.exception("shipping %d log events to %s failed", len(events), group)
                    self.stats.failed_events += len(events)
            for _ in items:
                self._queue.task_done()
            if stop:
                return
            # Linger so that shipping (boto3 work, holding the GIL) comes in bursts, not between every
            # invocation; a flush() cuts the wait short.
            self._wake.wait(self._linger_s)
            self._wake.clear()

    def _ship(self, group: str, stream: str, events: list[LogEvent]) -> None:
        shipped: list[LogEvent] = []
        for batch in batches(events):
            self._put(group, stream, batch)
            shipped.extend(batch)
            self.stats.shipped_events += len(batch)
        for consume in self._consumers:
            try:
                consume(group, shipped)
            except Exception:  # the events are in CloudWatch Logs; a consumer's failure is its own
                log.exception("log consumer %r failed on %d events from %s", consume, len(shipped), group)

    def _put(self, group: str, stream: str, batch: list[LogEvent]) -> None:
        payload = [{"timestamp": e.timestamp_ms, "message": e.message} for e in batch]
        self._ensure(group, stream)
        try:
            self._call(
                self._client.put_log_events, logGroupName=group, logStreamName=stream, logEvents=payload
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            # Someone deleted the group or stream since we made it: make it again, once.
            self._known.discard((group, ""))
            self._known.discard((group, stream))
            self._ensure(group, stream)
            self._call(
                self._client.put_log_events, logGroupName=group, logStreamName=stream, logEvents=payload
            )

    def _ensure(self, group: str, stream: str) -> None:
        if (group, "") not in self._known:
            self._create(self._client.create_log_group, logGroupName=group)
            self._known.add((group, ""))
        if (group, stream) not in self._known:
            self._create(self._client.create_log_stream, logGroupName=group, logStreamName=stream)
            self._known.add((group, stream))

    def _create(self, call: Callable[..., Any], **kwargs: str) -> None:
        try:
            self._call(call, **kwargs)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceAlreadyExistsException":
                raise

    def _call(self, call: Callable[..., Any], **kwargs: Any) -> Any:
        return self._retrying(call, **kwargs)
