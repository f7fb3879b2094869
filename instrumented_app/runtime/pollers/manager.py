"""The Lambda service's event source side, locally: one poller per enabled mapping.

``EventSourcePollers`` reads the mappings from moto's Lambda API (never from the
template), starts a poller thread per mapping, follows later changes on
``refresh()`` (or every ``refresh_interval_s``), and delivers S3 notifications
that moto hands over (``s3``).

moto must run in this process (as ``sagawatch up`` and the tests run it):
``install_moto_hooks()`` switches off moto's own lossy delivery, and S3
notifications come from inside moto. Against a moto in another process the SQS
and stream pollers still work over HTTP, but moto would consume queue messages
and empty stream shards before them, and no S3 notification would arrive.
"""

from __future__ import annotations

import threading
import time

import boto3

from instrumented_app.runtime.pollers.base import MappingPoller, log
from instrumented_app.runtime.pollers.destinations import FailureDestinations
from instrumented_app.runtime.pollers.dynamodb_streams import DynamoDbStreamPoller
from instrumented_app.runtime.pollers.mappings import EventSourceMapping, read_mappings
from instrumented_app.runtime.pollers.moto_hooks import install_moto_hooks
from instrumented_app.runtime.pollers.s3 import S3NotificationDispatcher
from instrumented_app.runtime.pollers.sqs import SqsPoller
from instrumented_app.runtime.types import Invoker

#: Credentials for moto; it accepts any, and the pollers only ever talk to the local stack.
LOCAL_ACCESS_KEY = "testing"
#: How often ``wait_idle`` looks at the S3 dispatcher.
IDLE_CHECK_S = 0.02


class EventSourcePollers:
    """Start, follow and stop the pollers for every event source mapping in one region."""

    def __init__(
        self,
        invoker: Invoker,
        *,
        aws_endpoint: str,
        region: str,
        poll_interval_s: float = 0.2,
        refresh_interval_s: float | None = 5.0,
        session: boto3.session.Session | None = None,
        s3_retry_delays_s: tuple[float, ...] = (1.0, 2.0),
    ) -> None:
        if poll_interval_s <= 0:
            raise ValueError(f"poll_interval_s: must be > 0, got {poll_interval_s}")
        if refresh_interval_s is not None and refresh_interval_s <= 0:
            raise ValueError(f"refresh_interval_s: must be > 0 or None, got {refresh_interval_s}")
        self._invoker = invoker
        self._endpoint = aws_endpoint
        self._region = region
        self._poll_interval_s = poll_interval_s
        self._refresh_interval_s = refresh_interval_s
        self._session = session or boto3.session.Session(
            aws_access_key_id=LOCAL_ACCESS_KEY, aws_secret_access_key=LOCAL_ACCESS_KEY, region_name=region
        )
        self._lambda = self._session.client("lambda", endpoint_url=aws_endpoint, region_name=region)
        self._pollers: dict[str, MappingPoller] = {}
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._refresher: threading.Thread | None = None
        self._destinations = FailureDestinations(self._session, aws_endpoint)
        self._s3 = S3NotificationDispatcher(
            invoker, region=region, poll_interval_s=poll_interval_s, retry_delays_s=s3_retry_delays_s
        )

    # -- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> None:
        """Take over from moto's built-in delivery and start a poller for every enabled mapping."""
        install_moto_hooks()
        self.refresh()
        self._s3.start()
        if self._refresh_interval_s is not None:
            self._refresher = threading.Thread(target=self._refresh_loop, name="poller-refresh", daemon=True)
            self._refresher.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop every poller and wait at most ``timeout`` seconds in all for their threads."""
        self._stop.set()
        with self._lock:
            pollers = list(self._pollers.values())
            self._pollers.clear()
        for poller in pollers:
            poller.stop()
        deadline = time.monotonic() + timeout

        def left() -> float:
            return max(0.0, deadline - time.monotonic())

        still_running = [p.mapping.uuid for p in pollers if not p.join(left())]
        if not self._s3.stop(left()):
            still_running.append("s3-notifications")
        if self._refresher is not None:
            self._refresher.join(left())
        if still_running:
            log.warning("still running %.1fs after stop(): %s", timeout, ", ".join(still_running))

    def refresh(self) -> None:
        """Follow the Lambda API: start pollers for new mappings, update changed ones, stop removed ones."""
        current = {m.uuid: m for m in read_mappings(self._lambda) if m.enabled and m.region == self._region}
        with self._lock:
            if self._stop.is_set():
                return
            for uuid in set(self._pollers) - set(current):
                self._pollers.pop(uuid).stop()
                log.info("mapping %s removed or disabled: poller stopped", uuid)
            for uuid, mapping in current.items():
                poller = self._pollers.get(uuid)
                if poller is None:
                    poller = self._new_poller(mapping)
                    self._pollers[uuid] = poller
                    poller.start()
                    log.info(
                        "mapping %s: polling %s for %s", uuid, mapping.event_source_arn, mapping.function.name
                    )
                elif poller.mapping != mapping:
                    poller.mapping = mapping

    def _refresh_loop(self) -> None:
        assert self._refresh_interval_s is not None
        while not self._stop.wait(self._refresh_interval_s):
            try:
                self.refresh()
            except Exception:
                log.exception("could not read event source mappings from %s", self._endpoint)

    def _new_poller(self, mapping: EventSourceMapping) -> MappingPoller:
        if mapping.kind == "sqs":
            return SqsPoller(
                mapping,
                self._invoker,
                session=self._session,
                aws_endpoint=self._endpoint,
                poll_interval_s=self._poll_interval_s,
            )
        return DynamoDbStreamPoller(
            mapping,
            self._invoker,
            session=self._session,
            aws_endpoint=self._endpoint,
            poll_interval_s=self._poll_interval_s,
            destinations=self._destinations,
        )

    # -- observing -----------------------------------------------------------------------------------

    @property
    def mappings(self) -> dict[str, EventSourceMapping]:
        """The mappings being polled now, by UUID."""
        with self._lock:
            return {uuid: poller.mapping for uuid, poller in self._pollers.items()}

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every poller has found its source empty at least once after this call,
        and no S3 notification is waiting, running or due for a retry.

        A test's way to say "everything that was deliverable has been delivered";
        messages still invisible (in flight, awaiting retry) are not deliverable yet.
        """
        deadline = time.monotonic() + timeout

        def left() -> float:
            return max(0.0, deadline - time.monotonic())

        with self._lock:
            pollers = list(self._pollers.values())
        marks = [(poller, poller.empty_polls()) for poller in pollers]
        if not all(poller.wait_empty_poll_after(mark, left()) for poller, mark in marks):
            return False
        while not self._s3.idle():
            if left() <= 0:
                return False
            time.sleep(min(IDLE_CHECK_S, left()))
        return True
