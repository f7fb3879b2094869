"""The order effects ledger (DynamoDB): what each consumer did for each order event, recorded once.

Key: ``order_id`` + ``effect`` (``consumer#event_type``). The put is conditional
on the key being new, so a redelivered message (SQS is at-least-once, and a
client may repeat ``POST /orders/events``) records nothing twice and the
consumer reports ``duplicate``. The item carries the correlation id and
``traceparent`` of the event, as DESIGN.md asks of DynamoDB items.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from instrumented_app.fanout.effects import Effect


def effect_key(consumer: str, event_type: str) -> str:
    return f"{consumer}#{event_type}"


@dataclass(frozen=True)
class RecordedEffect:
    order_id: str
    consumer: str
    event_type: str
    action: str
    details: dict[str, Any]
    correlation_id: str | None
    recorded_at: str


class EffectsLedger:
    def __init__(self, table: str, dynamodb: Any) -> None:
        self._table = table
        self._dynamodb = dynamodb

    def record(self, order_id: str, event_type: str, effect: Effect, trace: dict[str, str]) -> bool:
        """Record ``effect``; False when it was already recorded (a duplicate delivery)."""
        item = {
            "order_id": {"S": order_id},
            "effect": {"S": effect_key(effect.consumer, event_type)},
            "consumer": {"S": effect.consumer},
            "event_type": {"S": event_type},
            "action": {"S": effect.action},
            "details": {"S": json.dumps(effect.details, sort_keys=True)},
            "recorded_at": {"S": datetime.now(UTC).isoformat(timespec="milliseconds")},
            **{name: {"S": value} for name, value in trace.items()},
        }
        try:
            self._dynamodb.put_item(
                TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(effect)"
            )
        except self._dynamodb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def effects_of(self, order_id: str) -> list[RecordedEffect]:
        """Every effect recorded for the order (one ``Query``, paged; an order has a handful)."""
        found: list[RecordedEffect] = []
        pages = self._dynamodb.get_paginator("query").paginate(
            TableName=self._table,
            KeyConditionExpression="order_id = :o",
            ExpressionAttributeValues={":o": {"S": order_id}},
            ConsistentRead=True,
        )
        for page in pages:
            found.extend(_from_item(item) for item in page["Items"])
        return found


def _from_item(item: dict[str, Any]) -> RecordedEffect:
    return RecordedEffect(
        order_id=item["order_id"]["S"],
        consumer=item["consumer"]["S"],
        event_type=item["event_type"]["S"],
        action=item["action"]["S"],
        details=json.loads(item["details"]["S"]),
        correlation_id=item.get("correlation_id", {}).get("S"),
        recorded_at=item["recorded_at"]["S"],
    )
