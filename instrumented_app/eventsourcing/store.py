"""The event store: one DynamoDB item per (aggregate_id, version), written with a conditional put.

Optimistic concurrency: a writer appends version ``expected + 1`` with
``attribute_not_exists(aggregate_id)``, so of two writers that read the same
version, exactly one succeeds; the other gets ``ConcurrencyConflict`` with the
version it expected and the one the store holds now. Items are never updated
or deleted: the table's stream carries each event once, in order per aggregate.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from instrumented_app.eventsourcing.model import StoredEvent
from instrumented_app.items.model import json_ready
from instrumented_app.items.store import from_attributes, to_attributes

#: Bound on the pages one read walks (1 MB each): far beyond any account's history here.
MAX_PAGES = 10_000


class ConcurrencyConflict(Exception):
    error_code = "EVENT_VERSION_CONFLICT"

    def __init__(self, aggregate_id: str, expected: int, current: int) -> None:
        super().__init__(f"{aggregate_id} is at version {current}, not {expected}")
        self.aggregate_id = aggregate_id
        self.expected = expected
        self.current = current


def event_from_attributes(attributes: dict[str, Any]) -> StoredEvent:
    return StoredEvent.model_validate(json_ready(from_attributes(attributes)))


class EventStore:
    def __init__(self, table_name: str, client: Any) -> None:
        self.table_name = table_name
        self._db = client

    def append(self, event: StoredEvent) -> None:
        """Store ``event`` as its aggregate's version ``event.version``; ``ConcurrencyConflict`` if taken."""
        try:
            self._db.put_item(
                TableName=self.table_name,
                Item=to_attributes(event.model_dump()),
                ConditionExpression="attribute_not_exists(aggregate_id)",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            raise ConcurrencyConflict(
                event.aggregate_id, event.version - 1, self.current_version(event.aggregate_id)
            ) from exc

    def current_version(self, aggregate_id: str) -> int:
        answer = self._db.query(
            TableName=self.table_name,
            KeyConditionExpression="aggregate_id = :id",
            ExpressionAttributeValues={":id": {"S": aggregate_id}},
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
            ProjectionExpression="version",
        )
        items = answer.get("Items", [])
        return int(items[0]["version"]["N"]) if items else 0

    def load(self, aggregate_id: str, after_version: int = 0) -> list[StoredEvent]:
        """The aggregate's events with a version above ``after_version``, in order."""
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "aggregate_id = :id AND version > :after",
            "ExpressionAttributeValues": {":id": {"S": aggregate_id}, ":after": {"N": str(after_version)}},
            "ConsistentRead": True,
        }
        return list(self._pages("query", request))

    def all_events(self) -> Iterator[StoredEvent]:
        """Every event of every aggregate, for a replay (an offline job: the one place a Scan is right)."""
        yield from self._pages("scan", {"TableName": self.table_name, "ConsistentRead": True})

    def _pages(self, operation: str, request: dict[str, Any]) -> Iterator[StoredEvent]:
        call = getattr(self._db, operation)
        for _ in range(MAX_PAGES):
            answer = call(**request)
            for item in answer.get("Items", []):
                yield event_from_attributes(item)
            if "LastEvaluatedKey" not in answer:
                return
            request = {**request, "ExclusiveStartKey": answer["LastEvaluatedKey"]}
        raise RuntimeError(f"{self.table_name}: more than {MAX_PAGES} pages in one read")
