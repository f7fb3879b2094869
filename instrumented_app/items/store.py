"""Items in DynamoDB: one item per id, a GSI ``by-category`` (category, created_at) for listing.

Every write is conditional: a create never overwrites, an update names the
version it is based on (optimistic concurrency: a stale write gets
``VersionConflict`` carrying the current version), a delete needs the item to
exist. Listing is a GSI ``Query`` with ``Limit`` and ``ExclusiveStartKey``,
never a ``Scan``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from instrumented_app.items.model import Item, epoch_ms

CATEGORY_INDEX = "by-category"
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class ItemNotFound(LookupError):
    error_code = "ITEM_NOT_FOUND"

    def __init__(self, item_id: str) -> None:
        super().__init__(f"item {item_id} does not exist")
        self.item_id = item_id


class VersionConflict(Exception):
    error_code = "ITEM_VERSION_CONFLICT"

    def __init__(self, item_id: str, expected: int, current: int) -> None:
        super().__init__(f"item {item_id} is at version {current}, not {expected}")
        self.item_id = item_id
        self.expected = expected
        self.current = current


@dataclass(frozen=True)
class Page:
    items: list[Item]
    #: ``LastEvaluatedKey`` of the query, None on the last page.
    last_key: dict[str, Any] | None


def to_attributes(values: dict[str, Any]) -> dict[str, Any]:
    return {name: _serializer.serialize(value) for name, value in values.items() if value is not None}


def from_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in attributes.items()}


def item_from_attributes(attributes: dict[str, Any]) -> Item:
    return Item.model_validate(from_attributes(attributes))


class ItemsTable:
    def __init__(self, table_name: str, client: Any) -> None:
        self.table_name = table_name
        self._db = client

    def create(self, item: Item) -> None:
        self._db.put_item(
            TableName=self.table_name,
            Item=to_attributes(item.model_dump()),
            ConditionExpression="attribute_not_exists(item_id)",
        )

    def get(self, item_id: str) -> Item | None:
        found = self._db.get_item(
            TableName=self.table_name, Key={"item_id": {"S": item_id}}, ConsistentRead=True
        )
        return item_from_attributes(found["Item"]) if "Item" in found else None

    def list_by_category(
        self, category: str, bounds: tuple[str, str], limit: int, start_key: dict[str, Any] | None
    ) -> Page:
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": CATEGORY_INDEX,
            "KeyConditionExpression": "category = :category AND created_at BETWEEN :low AND :high",
            "ExpressionAttributeValues": {
                ":category": {"S": category},
                ":low": {"S": bounds[0]},
                ":high": {"S": bounds[1]},
            },
            "Limit": limit,
        }
        if start_key is not None:
            request["ExclusiveStartKey"] = start_key
        answer = self._db.query(**request)
        return Page(
            [item_from_attributes(a) for a in answer.get("Items", [])], answer.get("LastEvaluatedKey")
        )

    def update(
        self,
        item_id: str,
        changes: dict[str, Any],
        expected_version: int,
        now: datetime,
        trace: dict[str, str],
    ) -> Item:
        """Apply ``changes`` if the item is still at ``expected_version``; the new item is returned."""
        values = {**changes, "updated_at_ms": epoch_ms(now), **trace}
        names = {f"#f{n}": name for n, name in enumerate(values)}
        sets = [f"#f{n} = :v{n}" for n in range(len(values))]
        attributes = {f":v{n}": _serializer.serialize(value) for n, value in enumerate(values.values())}
        try:
            answer = self._db.update_item(
                TableName=self.table_name,
                Key={"item_id": {"S": item_id}},
                UpdateExpression=f"SET {', '.join(sets)}, #version = #version + :one",
                ConditionExpression="attribute_exists(item_id) AND #version = :expected",
                ExpressionAttributeNames={**names, "#version": "version"},
                ExpressionAttributeValues={
                    **attributes,
                    ":one": {"N": "1"},
                    ":expected": {"N": str(expected_version)},
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            current = self.get(item_id)
            if current is None:
                raise ItemNotFound(item_id) from exc
            raise VersionConflict(item_id, expected_version, current.version) from exc
        return item_from_attributes(answer["Attributes"])

    def delete(self, item_id: str) -> Item:
        try:
            answer = self._db.delete_item(
                TableName=self.table_name,
                Key={"item_id": {"S": item_id}},
                ConditionExpression="attribute_exists(item_id)",
                ReturnValues="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ItemNotFound(item_id) from exc
            raise
        return item_from_attributes(answer["Attributes"])
