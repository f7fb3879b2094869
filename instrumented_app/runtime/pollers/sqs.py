"""The SQS side of Lambda's event source mapping: receive a batch, invoke, delete what succeeded.

- Invocation error: nothing is deleted; every message returns after the queue's
  visibility timeout, and moto moves it to the DLQ on the receive after
  ``maxReceiveCount`` (the queue's redrive policy, checked in the tests).
- Success with ``ReportBatchItemFailures``: everything but the reported items is
  deleted; an invalid response fails the whole batch (``batch_response``).
- Success otherwise: the whole batch is deleted.
- FIFO: once a message of a group is kept for retry, the group's later
  messages in the batch are kept too, so a group is never processed out of order.
- ``ScalingConfig.MaximumConcurrency`` (standard queues): up to that many
  batches are invoked at once, each on its own thread (and so in its own
  execution environment), as Lambda's pollers scale out; without it, and for
  FIFO queues, one batch at a time. The source counts as empty only when a
  receive found nothing and no batch is still being invoked.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

import boto3

from instrumented_app.runtime.pollers.base import MappingPoller, log
from instrumented_app.runtime.pollers.batch_response import BatchOutcome, invocation_outcome
from instrumented_app.runtime.pollers.events import sqs_event
from instrumented_app.runtime.pollers.mappings import EventSourceMapping
from instrumented_app.runtime.types import Invoker

#: ReceiveMessage's own cap.
SQS_MAX_RECEIVE = 10
#: Long-poll seconds per receive: short, so that ``stop()`` is prompt.
LONG_POLL_S = 1


def messages_to_keep(messages: Sequence[Mapping[str, Any]], outcome: BatchOutcome, *, fifo: bool) -> set[str]:
    """The message ids that must stay on the queue (be retried) after a batch's outcome."""
    keep: set[str] = set()
    blocked_groups: set[str] = set()
    for message in messages:
        message_id = message["MessageId"]
        group = (message.get("Attributes") or {}).get("MessageGroupId") if fifo else None
        if outcome.failed(message_id) or (group is not None and group in blocked_groups):
            keep.add(message_id)
            if group is not None:
                blocked_groups.add(group)
    return keep


def queue_url_parts(queue_arn: str) -> tuple[str, str]:
    """``arn:aws:sqs:region:account:name`` -> (account, name)."""
    parts = queue_arn.split(":")
    if len(parts) != 6 or parts[2] != "sqs":
        raise ValueError(f"EventSourceArn: not an SQS queue ARN: {queue_arn!r}")
    return parts[4], parts[5]


class SqsPoller(MappingPoller):
    sleeps_when_empty = False  # the receive itself long-polls

    def __init__(
        self,
        mapping: EventSourceMapping,
        invoker: Invoker,
        *,
        session: boto3.session.Session,
        aws_endpoint: str,
        poll_interval_s: float,
    ) -> None:
        super().__init__(mapping, invoker, poll_interval_s=poll_interval_s)
        self._sqs = session.client("sqs", endpoint_url=aws_endpoint, region_name=mapping.region)
        account, self._queue_name = queue_url_parts(mapping.event_source_arn)
        self._account = account
        self._queue_url: str | None = None
        self._fifo = self._queue_name.endswith(".fifo")
        self._in_flight = 0
        self._in_flight_changed = threading.Condition()

    def _url(self) -> str:
        if self._queue_url is None:
            self._queue_url = self._sqs.get_queue_url(
                QueueName=self._queue_name, QueueOwnerAWSAccountId=self._account
            )["QueueUrl"]
        return self._queue_url

    def _receive(self, count: int, wait_s: int) -> list[dict[str, Any]]:
        response = self._sqs.receive_message(
            QueueUrl=self._url(),
            MaxNumberOfMessages=max(1, min(count, SQS_MAX_RECEIVE)),
            WaitTimeSeconds=wait_s,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return [dict(message) for message in response.get("Messages", [])]

    def gather(self, mapping: EventSourceMapping) -> list[dict[str, Any]]:
        """One batch: a long-polled receive, topped up until the batch is full or the window closes."""
        batch = self._receive(mapping.batch_size, LONG_POLL_S)
        if not batch or mapping.max_batching_window_s <= 0:
            return batch
        deadline = time.monotonic() + mapping.max_batching_window_s
        while len(batch) < mapping.batch_size and not self.stopping:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            more = self._receive(mapping.batch_size - len(batch), 1 if remaining >= 1 else 0)
            batch.extend(more)
            if not more and remaining < 1:
                self.sleep(min(remaining, self._poll_interval_s))
        return batch

    def concurrency(self) -> int:
        """Batches that may be invoked at once under the current mapping."""
        return 1 if self._fifo else (self.mapping.maximum_concurrency or 1)

    def poll_once(self) -> bool:
        if not self._wait_for_slot():
            return True  # stopping
        mapping = self.mapping
        messages = self.gather(mapping)
        if not messages:
            with self._in_flight_changed:
                return self._in_flight > 0  # idle only when nothing is being invoked either
        if self.stopping:  # stopped (mapping disabled or deleted) during the receive: hand them back now
            self._release(messages)
            return False
        records = sqs_event(messages, mapping.event_source_arn, mapping.region)["Records"]
        record_filter = self.record_filter()
        matching = [i for i, record in enumerate(records) if record_filter.matches(record)]
        if len(matching) < len(messages):  # Lambda deletes what its filters leave out
            wanted = set(matching)
            self._delete([m for i, m in enumerate(messages) if i not in wanted])
            messages = [messages[i] for i in matching]
            records = [records[i] for i in matching]
            if not messages:
                return True
        if self.concurrency() == 1:
            self._deliver(mapping, messages, records)
            return True
        with self._in_flight_changed:
            self._in_flight += 1
        threading.Thread(
            target=self._deliver_and_free,
            args=(mapping, messages, records),
            name=f"poller-sqs-{mapping.uuid[:8]}-batch",
            daemon=True,
        ).start()
        return True

    def _wait_for_slot(self) -> bool:
        """Wait until fewer batches than ``concurrency()`` are being invoked; False when stopped first."""
        with self._in_flight_changed:
            while self._in_flight >= self.concurrency():
                if self.stopping:
                    return False
                self._in_flight_changed.wait(self._poll_interval_s)
        return not self.stopping

    def _deliver_and_free(
        self, mapping: EventSourceMapping, messages: list[dict[str, Any]], records: list[dict[str, Any]]
    ) -> None:
        try:
            self._deliver(mapping, messages, records)
        except Exception:  # on its own thread: logged here, the messages return after their timeout
            log.exception("mapping %s: a batch from %s was not delivered", mapping.uuid, self._queue_name)
        finally:
            with self._in_flight_changed:
                self._in_flight -= 1
                self._in_flight_changed.notify_all()

    def _deliver(
        self, mapping: EventSourceMapping, messages: list[dict[str, Any]], records: list[dict[str, Any]]
    ) -> None:
        """Invoke the function with one batch; delete what it did not report as failed."""
        result = self.invoke({"Records": records})
        outcome = invocation_outcome(
            result,
            {m["MessageId"] for m in messages},
            report_batch_item_failures=mapping.report_batch_item_failures,
        )
        keep = messages_to_keep(messages, outcome, fifo=self._fifo)
        if keep:
            log.warning(
                "mapping %s: %d of %d messages from %s return to the queue (%s)",
                mapping.uuid,
                len(keep),
                len(messages),
                self._queue_name,
                outcome.reason or "reported in batchItemFailures",
            )
        self._delete([m for m in messages if m["MessageId"] not in keep])

    def join(self, timeout: float) -> bool:
        """Wait for the polling thread, then for the batches it started, ``timeout`` seconds in all."""
        deadline = time.monotonic() + timeout
        if not super().join(timeout):
            return False
        with self._in_flight_changed:
            return self._in_flight_changed.wait_for(
                lambda: self._in_flight == 0, max(0.0, deadline - time.monotonic())
            )

    def _release(self, messages: Sequence[Mapping[str, Any]]) -> None:
        """Make received messages visible again at once (they were not handed to the function)."""
        for chunk in _chunks(messages):
            self._sqs.change_message_visibility_batch(
                QueueUrl=self._url(),
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
                    for i, m in enumerate(chunk)
                ],
            )

    def _delete(self, messages: Sequence[Mapping[str, Any]]) -> None:
        for chunk in _chunks(messages):
            response = self._sqs.delete_message_batch(
                QueueUrl=self._url(),
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
            for failed in response.get("Failed", []):
                log.error(
                    "mapping %s: could not delete a message from %s: %s",
                    self.mapping.uuid,
                    self._queue_name,
                    failed.get("Code"),
                )


def _chunks(messages: Sequence[Mapping[str, Any]]) -> list[Sequence[Mapping[str, Any]]]:
    """SQS batch calls take ten entries at most."""
    return [messages[start : start + SQS_MAX_RECEIVE] for start in range(0, len(messages), SQS_MAX_RECEIVE)]
