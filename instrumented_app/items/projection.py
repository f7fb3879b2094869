"""The CQRS read model of ``/items``: per-category summaries kept from the items table's stream.

Why a second DynamoDB table rather than a PostgreSQL projection in Aurora: the
projection is a Lambda fed by a DynamoDB stream; a table in the same template
needs no connection pool or VPC, and a conditional put is all an idempotent
apply needs.

Table layout (partition key ``pk``, sort key ``sk``):

* ``category#<name>`` / ``item#<id>``: the item's contribution to its
  category (quantity, value = price x quantity), or a tombstone once it was
  deleted or moved to another category, with ``written_at_ms`` (the write's
  own timestamp) and ``projected_at_ms``: the lag the bench reads.

Every row carries ``rank``, the order of the item's changes (``2 * version``; a
removal ``2 * version + 1``), and is written with ``attribute_not_exists(pk) OR
rank < :rank``. So a replayed stream record (Lambda delivers at least once)
changes nothing, a late replay of an INSERT cannot bring back a deleted item
(its tombstone ranks higher), and a crash between two writes is finished by
the retry. There are no counters to double-count: the summary is the sum of
the category's rows, read with one ``Query`` of its partition (its cost grows
with the category's size; fine for a read model of this scale).

Why not a ``TransactWriteItems`` of guard row + ``ADD`` counters: it is the
usual answer on AWS, but moto deep-copies the whole table for every
transaction (time grows with the table: about 40 ms at 100 rows, 280 ms at 500)
and that copy fails when a concurrent read touches the table, so the local
projection fell further behind the more it had projected.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from instrumented_app.items.store import from_attributes, to_attributes

#: Tombstones outlive any stream replay (24 h of stream retention) by far.
TOMBSTONE_TTL_S = 7 * 24 * 3600
#: Bound on the pages one summary reads (1 MB each).
MAX_PAGES = 1_000


@dataclass(frozen=True)
class Projected:
    """The part of an item the read model depends on."""

    item_id: str
    category: str
    quantity: int
    price: Decimal
    version: int

    @property
    def value(self) -> Decimal:
        return self.price * self.quantity


@dataclass(frozen=True)
class Change:
    """One stream record, read: what the read model must do about it."""

    item_id: str
    event_name: str
    rank: int
    old: Projected | None
    new: Projected | None
    #: Epoch ms of the write: the item's ``updated_at_ms``, or the stream's creation time for a removal.
    written_at_ms: int
    correlation_id: str | None


@dataclass(frozen=True)
class RowWrite:
    """One category row to write for a change: the item's contribution, or a tombstone (``item`` None)."""

    category: str
    item: Projected | None


def _projected(image: dict[str, Any] | None) -> Projected | None:
    if not image:
        return None
    values = from_attributes(image)
    return Projected(
        item_id=str(values["item_id"]),
        category=str(values["category"]),
        quantity=int(values.get("quantity", 0)),
        price=Decimal(values.get("price", 0)),
        version=int(values["version"]),
    )


def read_change(record: dict[str, Any]) -> Change:
    """A DynamoDB Streams record of the items table -> the change to project."""
    change = record["dynamodb"]
    event_name = str(record["eventName"])
    old = _projected(change.get("OldImage"))
    new = _projected(change.get("NewImage")) if event_name != "REMOVE" else None
    if new is not None:
        rank = 2 * new.version
        image = from_attributes(change["NewImage"])
        written_at_ms = int(image.get("updated_at_ms") or 0)
        correlation_id = image.get("correlation_id")
    elif old is not None:
        rank = 2 * old.version + 1
        written_at_ms = int(float(change.get("ApproximateCreationDateTime", 0)) * 1000)
        correlation_id = from_attributes(change["OldImage"]).get("correlation_id")
    else:
        raise ValueError(f"stream record {record.get('eventID')} has no image: the stream must show both")
    return Change(
        item_id=str(from_attributes(change["Keys"])["item_id"]),
        event_name=event_name,
        rank=rank,
        old=old,
        new=new,
        written_at_ms=written_at_ms,
        correlation_id=str(correlation_id) if correlation_id else None,
    )


def row_writes(change: Change) -> list[RowWrite]:
    """The category rows a change writes: the new contribution, and a tombstone in the category the
    item left (deleted, or moved elsewhere)."""
    writes = [RowWrite(change.new.category, change.new)] if change.new else []
    if change.old and (change.new is None or change.old.category != change.new.category):
        writes.append(RowWrite(change.old.category, None))
    return writes


def summarize(category: str, rows: Iterable[dict[str, Any]]) -> dict[str, Any] | None:
    """A category's summary from its rows (tombstones count for the timestamps only); None if it has none."""
    live_count, quantity, value = 0, 0, Decimal(0)
    latest: dict[str, Any] | None = None
    for row in rows:
        if not row.get("deleted"):
            live_count += 1
            quantity += int(row["quantity"])
            value += Decimal(row["value"])
        if latest is None or row["projected_at_ms"] > latest["projected_at_ms"]:
            latest = row
    if latest is None:
        return None
    return {
        "category": category,
        "item_count": live_count,
        "total_quantity": quantity,
        "total_value": value,
        "last_written_at_ms": int(latest["written_at_ms"]),
        "last_projected_at_ms": int(latest["projected_at_ms"]),
        "last_lag_ms": int(latest["projected_at_ms"]) - int(latest["written_at_ms"]),
    }


class ReadModel:
    def __init__(self, table_name: str, client: Any) -> None:
        self.table_name = table_name
        self._db = client

    def apply(self, change: Change, projected_at_ms: int) -> bool:
        """Apply ``change``; False when every row had already seen it (or a later change): a replay."""
        stamps = {
            "rank": change.rank,
            "event_name": change.event_name,
            "written_at_ms": change.written_at_ms,
            "projected_at_ms": projected_at_ms,
            "correlation_id": change.correlation_id,
        }
        expires = {"expires_at": projected_at_ms // 1000 + TOMBSTONE_TTL_S}
        applied = False
        for write in row_writes(change):
            contribution = (
                {"deleted": False, "quantity": write.item.quantity, "value": write.item.value}
                if write.item
                else {"deleted": True, "quantity": 0, "value": 0, **expires}
            )
            row = {
                "pk": f"category#{write.category}",
                "sk": f"item#{change.item_id}",
                **stamps,
                **contribution,
            }
            applied = self._put_if_newer(row) or applied
        return applied

    def _put_if_newer(self, row: dict[str, Any]) -> bool:
        try:
            self._db.put_item(
                TableName=self.table_name,
                Item=to_attributes(row),
                ConditionExpression="attribute_not_exists(pk) OR #rank < :rank",
                ExpressionAttributeNames={"#rank": "rank"},
                ExpressionAttributeValues={":rank": {"N": str(row["rank"])}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def summary(self, category: str) -> dict[str, Any] | None:
        return summarize(category, self._rows(f"category#{category}"))

    def _rows(self, pk: str) -> Iterable[dict[str, Any]]:
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}},
            "ConsistentRead": True,
        }
        for _ in range(MAX_PAGES):
            answer = self._db.query(**request)
            for item in answer.get("Items", []):
                yield from_attributes(item)
            if "LastEvaluatedKey" not in answer:
                return
            request = {**request, "ExclusiveStartKey": answer["LastEvaluatedKey"]}
        raise RuntimeError(f"{self.table_name}: {pk} has more than {MAX_PAGES} pages")

    def item_row(self, category: str, item_id: str) -> dict[str, Any] | None:
        """One item's row in a category: its contribution (or tombstone), rank and write/projection times."""
        found = self._db.get_item(
            TableName=self.table_name,
            Key={"pk": {"S": f"category#{category}"}, "sk": {"S": f"item#{item_id}"}},
            ConsistentRead=True,
        )
        if "Item" not in found:
            return None
        return {k: v for k, v in from_attributes(found["Item"]).items() if k not in ("pk", "sk")}
