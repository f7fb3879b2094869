"""Make in-process moto behave as the pollers need: no delivery of its own, FIFO order kept.

1. moto 5.2 has a crude built-in event source mapping: on every ``SendMessage``
   to a queue with a mapping it receives a batch itself, "invokes" the function
   in its Lambda backend (with ``use_docker: false`` that always succeeds
   without running anything; with the Step Functions bridge installed it runs
   the handler once per message, inside ``SendMessage``) and deletes the
   messages; on every DynamoDB write it sends the stream records to the function
   and then *empties the stream shard*. Left on, messages would vanish before a
   poller saw them and ``GetRecords`` would return nothing. The pollers do what
   the Lambda service does instead, so moto's per-queue and per-table mapping
   registries are made always-empty (the Lambda API still lists the mappings).
2. moto's FIFO ``ReceiveMessage`` counts a message group as "in flight" while
   any of its messages sits in the pending set, even after its visibility
   timeout ran out; when two messages of a group come back together it then
   skips the first and hands out the second, reversing the group's order. Real
   SQS blocks a group only while one of its messages is invisible, which is what
   ``pending_message_groups`` computes here.

This only has an effect when moto runs in this process (``sagawatch up`` and
the tests run ``ThreadedMotoServer`` in-process). It is idempotent, and must run
before messages are sent to a mapped queue (best: right after moto starts).
"""

from __future__ import annotations

import threading
from typing import Any

_lock = threading.Lock()
_installed = False


def _always_empty(_self: Any) -> dict[str, Any]:
    return {}


def _ignore(_self: Any, _value: Any) -> None:
    return None


def _groups_in_flight(queue: Any) -> set[str]:
    return {
        message.group_id
        for message in queue._pending_messages
        if message.group_id is not None and not message.visible
    }


def install_moto_hooks() -> None:
    """Switch off moto's own Lambda delivery and fix its FIFO redelivery order (see the module doc)."""
    global _installed
    with _lock:
        if _installed:
            return
        from moto.dynamodb.models.table import Table
        from moto.sqs.models import Queue

        # A data descriptor on the class wins over the instance attribute that __init__ sets,
        # so queues and tables that already exist are covered too.
        empty_registry = property(_always_empty, _ignore)
        setattr(Queue, "lambda_event_source_mappings", empty_registry)  # noqa: B010 (typed as a dict)
        setattr(Table, "lambda_event_source_mappings", empty_registry)  # noqa: B010
        setattr(Queue, "pending_message_groups", property(_groups_in_flight))  # noqa: B010
        _installed = True
