"""One DynamoDB item per order and task: what the task did, so that it does it once.

A task that finds its item ``DONE`` returns the recorded result and does
nothing (a retry after a lost answer, a redrive, a duplicate delivery). A
compensation turns ``DONE`` into ``COMPENSATED`` with a conditional update, so
running it twice is harmless; a later re-run of the task (a redrive) does it
again under the next ``generation``.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

DONE = "DONE"
COMPENSATED = "COMPENSATED"


@dataclass(frozen=True)
class TaskRecord:
    order_id: str
    task: str
    status: str | None
    generation: int
    result: dict[str, Any]
    failures: int = 0
    transient_failures: int = 0


class TaskLedger(Protocol):
    def get(self, order_id: str, task: str) -> TaskRecord | None: ...

    def record_done(
        self, order_id: str, task: str, generation: int, result: dict[str, Any], correlation_id: str
    ) -> TaskRecord:
        """Mark the task done (unless it already is: then the recorded item is returned as it is)."""

    def record_compensated(self, order_id: str, task: str) -> bool:
        """``DONE`` -> ``COMPENSATED``; False when there was nothing in force to compensate."""

    def count_failure(self, order_id: str, task: str, kind: str) -> int:
        """Add one to the task's ``failures`` or ``transient_failures``; the new count."""

    def records(self, order_id: str) -> list[TaskRecord]: ...


def _from_item(item: dict[str, Any]) -> TaskRecord:
    return TaskRecord(
        order_id=item["order_id"]["S"],
        task=item["task"]["S"],
        status=item.get("status", {}).get("S"),
        generation=int(item.get("generation", {}).get("N", "0")),
        result=json.loads(item.get("result", {}).get("S", "{}")),
        failures=int(item.get("failures", {}).get("N", "0")),
        transient_failures=int(item.get("transient_failures", {}).get("N", "0")),
    )


class DynamoDBTaskLedger:
    """The ledger on a DynamoDB table keyed ``order_id`` (hash) + ``task`` (range)."""

    def __init__(self, client: Any, table: str) -> None:
        self.client = client
        self.table = table

    def _key(self, order_id: str, task: str) -> dict[str, Any]:
        return {"order_id": {"S": order_id}, "task": {"S": task}}

    def get(self, order_id: str, task: str) -> TaskRecord | None:
        item = self.client.get_item(
            TableName=self.table, Key=self._key(order_id, task), ConsistentRead=True
        ).get("Item")
        return _from_item(item) if item else None

    def record_done(
        self, order_id: str, task: str, generation: int, result: dict[str, Any], correlation_id: str
    ) -> TaskRecord:
        # A ConditionalCheckFailed means an earlier delivery did it: its record stands.
        with contextlib.suppress(self.client.exceptions.ConditionalCheckFailedException):
            self.client.update_item(
                TableName=self.table,
                Key=self._key(order_id, task),
                UpdateExpression=(
                    "SET #s = :done, #r = :r, generation = :g, correlation_id = :c, updated_at = :t"
                ),
                ConditionExpression="attribute_not_exists(#s) OR #s = :comp",
                ExpressionAttributeNames={"#s": "status", "#r": "result"},
                ExpressionAttributeValues={
                    ":done": {"S": DONE},
                    ":comp": {"S": COMPENSATED},
                    ":r": {"S": json.dumps(result, sort_keys=True)},
                    ":g": {"N": str(generation)},
                    ":c": {"S": correlation_id},
                    ":t": {"S": datetime.now(UTC).isoformat()},
                },
            )
        record = self.get(order_id, task)
        assert record is not None  # written above or by the delivery that won
        return record

    def record_compensated(self, order_id: str, task: str) -> bool:
        try:
            self.client.update_item(
                TableName=self.table,
                Key=self._key(order_id, task),
                UpdateExpression="SET #s = :comp, updated_at = :t",
                ConditionExpression="#s = :done",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":done": {"S": DONE},
                    ":comp": {"S": COMPENSATED},
                    ":t": {"S": datetime.now(UTC).isoformat()},
                },
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def count_failure(self, order_id: str, task: str, kind: str) -> int:
        attribute = "transient_failures" if kind == "transient" else "failures"
        answer = self.client.update_item(
            TableName=self.table,
            Key=self._key(order_id, task),
            UpdateExpression=f"ADD {attribute} :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
            ReturnValues="UPDATED_NEW",
        )
        return int(answer["Attributes"][attribute]["N"])

    def records(self, order_id: str) -> list[TaskRecord]:
        items: list[TaskRecord] = []
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "order_id = :o",
            "ExpressionAttributeValues": {":o": {"S": order_id}},
            "ConsistentRead": True,
        }
        for _ in range(100):  # an order has a handful of items: one page, bounded anyway
            page = self.client.query(**kwargs)
            items.extend(_from_item(item) for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return items
