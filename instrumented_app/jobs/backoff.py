"""When a failed job's message comes back: exponential backoff by receive count, set on the message.

The queue's visibility timeout must cover the worker's whole Lambda timeout
(a running attempt must not be handed to a second worker), which makes it a
poor retry delay: a saga job needs a generous timeout, while a transient SaaS
error deserves a quick retry. So a failed attempt sets its own message's
visibility: ``base_s * 2 ** (receive_count - 1)`` capped at ``cap_s``, and 0
after the queue's last delivery, so the message reaches the DLQ at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from instrumented_app.telemetry import logger

#: SQS's own bound on a visibility timeout.
MAX_VISIBILITY_S = 12 * 3600


def retry_delay_s(receive_count: int, *, base_s: float, cap_s: float, last: bool) -> int:
    """Seconds until the next delivery of a message whose attempt ``receive_count`` failed."""
    if last:
        return 0
    delay = base_s * 2 ** max(receive_count - 1, 0)
    return int(min(delay, cap_s, MAX_VISIBILITY_S))


@dataclass(frozen=True)
class VisibilityBackoff:
    """Sets a failed message's visibility on ``queue_url`` (``sqs:ChangeMessageVisibility``)."""

    sqs: Any
    queue_url: str
    base_s: float = 2.0
    cap_s: float = 60.0

    def delay(self, receipt_handle: str, receive_count: int, *, last: bool) -> None:
        """Best effort: if SQS refuses, the queue's own visibility timeout applies, so it is only logged."""
        seconds = retry_delay_s(receive_count, base_s=self.base_s, cap_s=self.cap_s, last=last)
        try:
            self.sqs.change_message_visibility(
                QueueUrl=self.queue_url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
            )
        except Exception as exc:  # a failed backoff must not turn into a failed batch
            logger.warning("retry backoff not set: %s", type(exc).__name__, extra={"delay_s": seconds})
