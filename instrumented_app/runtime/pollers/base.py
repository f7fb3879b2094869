"""One thread per event source mapping: the loop, its stop switch and its back-off.

Every wait in a poller is a wait on the stop event, so ``stop()`` ends the
thread within one source call (a short long-poll at most).
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from typing import Any

from instrumented_app.runtime.pollers.filters import RecordFilter
from instrumented_app.runtime.pollers.mappings import EventSourceMapping
from instrumented_app.runtime.types import InvocationResult, Invoker

log = logging.getLogger("instrumented_app.runtime.pollers")

#: Upper bound of the back-off after a poller's own call to a source fails (source gone, moto stopped).
MAX_BACKOFF_S = 5.0


class MappingPoller(ABC):
    """Runs ``poll_once`` until stopped. Subclasses read ``self.mapping`` afresh for every batch,
    so ``refresh()`` can hand them a changed mapping (batch size, response types) without a restart."""

    #: False for sources whose read already waits (SQS long polling): no extra sleep after an empty poll.
    sleeps_when_empty = True

    def __init__(self, mapping: EventSourceMapping, invoker: Invoker, *, poll_interval_s: float) -> None:
        self.mapping = mapping
        self._invoker = invoker
        self._poll_interval_s = poll_interval_s
        self._stop = threading.Event()
        self._idle = threading.Condition()
        self._empty_polls = 0
        self._filter = RecordFilter(mapping.filter_patterns)
        self._filter_patterns = mapping.filter_patterns
        self._thread = threading.Thread(
            target=self._run, name=f"poller-{mapping.kind}-{mapping.uuid[:8]}", daemon=True
        )

    # -- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float) -> bool:
        """Wait for the thread to end; False if it is still running after ``timeout`` seconds."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def sleep(self, seconds: float) -> bool:
        """Wait, unless stopped first; True when stopped."""
        return self._stop.wait(seconds)

    def empty_polls(self) -> int:
        with self._idle:
            return self._empty_polls

    def wait_empty_poll_after(self, count: int, timeout: float) -> bool:
        """Wait until this poller has found its source empty more than ``count`` times in all."""
        with self._idle:
            return self._idle.wait_for(lambda: self._empty_polls > count, timeout)

    # -- the loop ------------------------------------------------------------------------------------

    def _run(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                delivered = self.poll_once()
                failures = 0
            except Exception:
                failures += 1
                delay = min(self._poll_interval_s * 2**failures, MAX_BACKOFF_S)
                log.exception(
                    "poller for mapping %s (%s) failed; retrying in %.1fs",
                    self.mapping.uuid,
                    self.mapping.event_source_arn,
                    delay,
                )
                self.sleep(delay)
                continue
            if not delivered:
                with self._idle:
                    self._empty_polls += 1
                    self._idle.notify_all()
                if self.sleeps_when_empty:
                    self.sleep(self._poll_interval_s)

    @abstractmethod
    def poll_once(self) -> bool:
        """Fetch one batch and deliver it; False when the source had nothing to deliver."""

    # -- filtering and invoking ----------------------------------------------------------------------

    def record_filter(self) -> RecordFilter:
        """The current mapping's ``FilterCriteria``, compiled again only when they change."""
        patterns = self.mapping.filter_patterns
        if patterns != self._filter_patterns:
            self._filter, self._filter_patterns = RecordFilter(patterns), patterns
        return self._filter

    def invoke(self, event: Any) -> InvocationResult | None:
        """Invoke the mapping's function synchronously; None when the function does not exist."""
        target = self.mapping.function
        try:
            return self._invoker.invoke(target.name, event, qualifier=target.qualifier)
        except LookupError:
            log.error(
                "mapping %s: function %s not found; batch not delivered", self.mapping.uuid, target.name
            )
            return None
