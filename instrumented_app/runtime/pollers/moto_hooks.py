"""Switch off moto's own Lambda delivery, so that the pollers are the only consumer.

moto 5.2 has a crude built-in event source mapping: on every ``SendMessage``
to a queue with a mapping it receives a batch itself, "invokes" the function in
its Lambda backend (with ``use_docker: false`` that always succeeds without
running anything) and deletes the messages; on every DynamoDB write it sends
the stream records to the function and then *empties the stream shard*. Left
on, messages would vanish before a poller saw them and ``GetRecords`` would
return nothing. The pollers do what the Lambda service does instead, so here
moto's per-queue and per-table mapping registries are made always-empty.

This only has an effect when moto runs in this process (``sagawatch up`` and
the tests run ``ThreadedMotoServer`` in-process). It is idempotent.
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


def silence_moto_builtin_delivery() -> None:
    """Make moto's queues and tables forget their event source mappings (the Lambda API still lists them)."""
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
        _installed = True
