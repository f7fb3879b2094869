"""Make in-process moto behave as the pollers need (its own delivery off, three fidelity fixes).

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
3. moto resolves a mapping's alias to the alias's version when the mapping is
   made (``FunctionName: fn:live`` comes back as ``FunctionArn: ...:fn:1``);
   Lambda keeps the alias, so invocations follow its weights and a later
   promotion. ``FunctionArn`` is given back with the alias here.
4. moto's DynamoDB Streams keeps every shard iterator it ever issued (one per
   ``GetRecords``), so a poller reading four times a second grows it by tens of
   MB an hour. Only the newest ``KEPT_SHARD_ITERATORS`` are kept; a poller
   always reads with the newest one it was given.

This only has an effect when moto runs in this process (``sagawatch up`` and
the tests run ``ThreadedMotoServer`` in-process). It is idempotent, and must run
before messages are sent to a mapped queue (best: right after moto starts).
"""

from __future__ import annotations

import itertools
import threading
from typing import Any

_lock = threading.Lock()
_installed = False

#: Shard iterators moto keeps (newest first out last); AWS lets an iterator live 15 minutes.
KEPT_SHARD_ITERATORS = 4096


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


def alias_qualifier(function_name: str) -> str | None:
    """The alias in a mapping's ``FunctionName`` (a name or ARN); None for a version or no qualifier."""
    parts = function_name.split(":")
    qualifier = parts[-1] if len(parts) in (2, 4, 8) else None  # name:q, acct:function:name:q, full ARN
    if qualifier is None or qualifier == "$LATEST" or qualifier.isdigit():
        return None
    return qualifier


def _configuration_keeping_alias(original: Any) -> Any:
    def get_configuration(self: Any) -> dict[str, Any]:
        configuration: dict[str, Any] = original(self)
        alias = alias_qualifier(str(self.function_name))
        arn = str(configuration.get("FunctionArn") or "")
        if alias is not None and arn.count(":") == 7:
            configuration["FunctionArn"] = f"{arn.rsplit(':', 1)[0]}:{alias}"
        return configuration

    return get_configuration


def _update_remembering_function_name(original: Any) -> Any:
    def update_event_source_mapping(self: Any, uuid: str, spec: dict[str, Any]) -> Any:
        mapping = original(self, uuid, spec)
        if mapping is not None and "FunctionName" in spec:
            mapping.function_name = spec["FunctionName"]
        return mapping

    return update_event_source_mapping


def _get_records_forgetting_old_iterators(original: Any) -> Any:
    def get_records(self: Any, iterator_arn: str, limit: int) -> Any:
        result = original(self, iterator_arn, limit)
        iterators = self.shard_iterators
        excess = len(iterators) - KEPT_SHARD_ITERATORS
        if excess > 0:
            for stale in list(itertools.islice(iterators, excess)):  # dicts keep insertion order
                iterators.pop(stale, None)
        return result

    return get_records


def install_moto_hooks() -> None:
    """Correct the four moto behaviours above; idempotent."""
    global _installed
    with _lock:
        if _installed:
            return
        from moto.awslambda.models import EventSourceMapping, LambdaBackend
        from moto.dynamodb.models.table import Table
        from moto.dynamodbstreams.models import DynamoDBStreamsBackend
        from moto.sqs.models import Queue

        # A data descriptor on the class wins over the instance attribute that __init__ sets,
        # so queues and tables that already exist are covered too.
        empty_registry = property(_always_empty, _ignore)
        setattr(Queue, "lambda_event_source_mappings", empty_registry)  # noqa: B010 (typed as a dict)
        setattr(Table, "lambda_event_source_mappings", empty_registry)  # noqa: B010
        setattr(Queue, "pending_message_groups", property(_groups_in_flight))  # noqa: B010
        configuration = _configuration_keeping_alias(EventSourceMapping.get_configuration)
        setattr(EventSourceMapping, "get_configuration", configuration)  # noqa: B010
        update = _update_remembering_function_name(LambdaBackend.update_event_source_mapping)
        setattr(LambdaBackend, "update_event_source_mapping", update)  # noqa: B010
        read = _get_records_forgetting_old_iterators(DynamoDBStreamsBackend.get_records)
        setattr(DynamoDBStreamsBackend, "get_records", read)  # noqa: B010
        _installed = True
