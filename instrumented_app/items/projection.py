"""The CQRS read model of ``/items``: per-category summaries kept from the items table's stream.

Why a second DynamoDB table rather than a PostgreSQL projection in Aurora: the
projection is a Lambda fed by a DynamoDB stream, and one ``TransactWriteItems``
gives it both halves of an idempotent apply (a guard row per item and the
summary counters) with no connection pool or VPC; the query side reads one
summary by key.

Table layout (partition key ``pk``, sort key ``sk``):

* ``item#<id>`` / ``state``: the guard. ``rank`` orders an item's changes
  (``2 * version``, a removal ``2 * version + 1``); a change is applied only if
  its rank is higher than the guard's, so a replayed stream record (Lambda
  delivers them at least once) is skipped. A removal leaves a tombstone, so a
  late replay of the item's INSERT cannot bring it back. The guard also keeps
  ``written_at_ms`` (the write's own timestamp) and ``projected_at_ms``.
* ``category#<name>`` / ``summary``: ``item_count``, ``total_quantity``,
  ``total_value`` (sum of price x quantity), and the last change's timestamps
  and lag.

The summary deltas are computed from the record's old and new images: a
change applied exactly once moves the summary from the old image's state to
the new one's.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from instrumented_app.items.store import from_attributes, to_attributes

SUMMARY_SK = "summary"
STATE_SK = "state"
#: Tombstones and guards outlive any stream replay (24 h of stream retention) by far.
TOMBSTONE_TTL_S = 7 * 24 * 3600


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
class Delta:
    item_count: int
    total_quantity: int
    total_value: Decimal


@dataclass(frozen=True)
class Change:
    """One stream record, read: what the read model must do about it."""

    item_id: str
    event_name: str
    rank: int
    new: Projected | None
    #: Epoch ms of the write: the item's ``updated_at_ms``, or the stream's creation time for a removal.
    written_at_ms: int
    correlation_id: str | None
    deltas: dict[str, Delta]


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


def summary_deltas(old: Projected | None, new: Projected | None) -> dict[str, Delta]:
    """How each category's summary moves when an item goes from ``old`` to ``new`` (either may be None)."""
    moves: dict[str, list[int | Decimal]] = {}
    for image, sign in ((old, -1), (new, 1)):
        if image is None:
            continue
        move = moves.setdefault(image.category, [0, 0, Decimal(0)])
        move[0] += sign
        move[1] += sign * image.quantity
        move[2] += sign * image.value
    return {
        category: Delta(int(count), int(quantity), Decimal(value))
        for category, (count, quantity, value) in moves.items()
        if (count, quantity, value) != (0, 0, 0)
    }


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
    item_id = str(from_attributes(change["Keys"])["item_id"])
    return Change(
        item_id=item_id,
        event_name=event_name,
        rank=rank,
        new=new,
        written_at_ms=written_at_ms,
        correlation_id=str(correlation_id) if correlation_id else None,
        deltas=summary_deltas(old, new),
    )


class ReadModel:
    def __init__(self, table_name: str, client: Any) -> None:
        self.table_name = table_name
        self._db = client

    def apply(self, change: Change, projected_at_ms: int) -> bool:
        """Apply ``change`` once; False when it was already applied (or superseded): a replay."""
        guard: dict[str, Any] = {
            "pk": f"item#{change.item_id}",
            "sk": STATE_SK,
            "rank": change.rank,
            "event_name": change.event_name,
            "category": change.new.category if change.new else None,
            "version": change.new.version if change.new else None,
            "deleted": change.new is None,
            "written_at_ms": change.written_at_ms,
            "projected_at_ms": projected_at_ms,
            "correlation_id": change.correlation_id,
            "expires_at": projected_at_ms // 1000 + TOMBSTONE_TTL_S if change.new is None else None,
        }
        operations: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": to_attributes(guard),
                    "ConditionExpression": "attribute_not_exists(pk) OR #rank < :rank",
                    "ExpressionAttributeNames": {"#rank": "rank"},
                    "ExpressionAttributeValues": {":rank": {"N": str(change.rank)}},
                }
            }
        ]
        lag_ms = projected_at_ms - change.written_at_ms
        for category, delta in change.deltas.items():
            operations.append(
                self._summary_update(category, delta, change.written_at_ms, projected_at_ms, lag_ms)
            )
        try:
            self._db.transact_write_items(TransactItems=operations)
        except ClientError as exc:
            reasons = exc.response.get("CancellationReasons") or []
            if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
                return False
            raise
        return True

    def _summary_update(
        self, category: str, delta: Delta, written_at_ms: int, projected_at_ms: int, lag_ms: int
    ) -> dict[str, Any]:
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": {"pk": {"S": f"category#{category}"}, "sk": {"S": SUMMARY_SK}},
                "UpdateExpression": (
                    "ADD item_count :count, total_quantity :quantity, total_value :value "
                    "SET category = :category, last_written_at_ms = :written, "
                    "last_projected_at_ms = :projected, last_lag_ms = :lag"
                ),
                "ExpressionAttributeValues": to_attributes(
                    {
                        ":count": delta.item_count,
                        ":quantity": delta.total_quantity,
                        ":value": delta.total_value,
                        ":category": category,
                        ":written": written_at_ms,
                        ":projected": projected_at_ms,
                        ":lag": lag_ms,
                    }
                ),
            }
        }

    def summary(self, category: str) -> dict[str, Any] | None:
        found = self._db.get_item(
            TableName=self.table_name,
            Key={"pk": {"S": f"category#{category}"}, "sk": {"S": SUMMARY_SK}},
            ConsistentRead=True,
        )
        if "Item" not in found:
            return None
        values = from_attributes(found["Item"])
        return {name: values[name] for name in sorted(values) if name not in ("pk", "sk")}

    def item_state(self, item_id: str) -> dict[str, Any] | None:
        """The guard row of one item: its last projected rank and the write/projection timestamps."""
        found = self._db.get_item(
            TableName=self.table_name,
            Key={"pk": {"S": f"item#{item_id}"}, "sk": {"S": STATE_SK}},
            ConsistentRead=True,
        )
        if "Item" not in found:
            return None
        return {k: v for k, v in from_attributes(found["Item"]).items() if k not in ("pk", "sk")}
