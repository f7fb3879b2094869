"""The query model: one item per account in its own table, moved forward by routed events.

``catch_up`` is how the query model's consumer applies an event: the event at
the view's next version is applied as it came; an older one (SQS delivers at
least once) is skipped; a newer one (SQS does not keep order) first loads the
missing events from the store, so the view never skips a version. The save is
conditional on the version the view was read at, so two consumers racing on
one account cannot both win; the loser's message is retried.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from botocore.exceptions import ClientError

from instrumented_app.eventsourcing.model import AccountView, StoredEvent, fold
from instrumented_app.eventsourcing.store import EventStore
from instrumented_app.items.model import json_ready
from instrumented_app.items.store import from_attributes, to_attributes

#: Bound on the pages a listing of the whole query model walks.
MAX_PAGES = 10_000


class ViewMoved(Exception):
    """Another consumer saved the view first; the message is retried and will find the new version."""

    error_code = "QUERY_MODEL_RACE"


@dataclass(frozen=True)
class Outcome:
    action: Literal["applied", "caught_up", "duplicate"]
    view: AccountView | None


class AccountViews:
    def __init__(self, table_name: str, client: Any) -> None:
        self.table_name = table_name
        self._db = client

    def get(self, aggregate_id: str) -> AccountView | None:
        found = self._db.get_item(
            TableName=self.table_name, Key={"aggregate_id": {"S": aggregate_id}}, ConsistentRead=True
        )
        return (
            AccountView.model_validate(json_ready(from_attributes(found["Item"])))
            if "Item" in found
            else None
        )

    def save(self, view: AccountView, read_version: int) -> None:
        """Write ``view`` if the stored one is still at ``read_version`` (0: none); ``ViewMoved`` if not."""
        condition = "attribute_not_exists(aggregate_id)" if read_version == 0 else "version = :read"
        values = {":read": {"N": str(read_version)}} if read_version else None
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "Item": to_attributes(view.model_dump()),
            "ConditionExpression": condition,
        }
        if values:
            request["ExpressionAttributeValues"] = values
        try:
            self._db.put_item(**request)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ViewMoved(f"view {view.aggregate_id} moved past version {read_version}") from exc
            raise

    def put(self, view: AccountView) -> None:
        """Unconditional write: only the replay uses it, with nothing else writing."""
        self._db.put_item(TableName=self.table_name, Item=to_attributes(view.model_dump()))

    def delete(self, aggregate_id: str) -> None:
        self._db.delete_item(TableName=self.table_name, Key={"aggregate_id": {"S": aggregate_id}})

    def all(self) -> dict[str, AccountView]:
        views: dict[str, AccountView] = {}
        request: dict[str, Any] = {"TableName": self.table_name, "ConsistentRead": True}
        for _ in range(MAX_PAGES):
            answer = self._db.scan(**request)
            for item in answer.get("Items", []):
                view = AccountView.model_validate(json_ready(from_attributes(item)))
                views[view.aggregate_id] = view
            if "LastEvaluatedKey" not in answer:
                return views
            request["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
        raise RuntimeError(f"{self.table_name}: more than {MAX_PAGES} pages")


def catch_up(views: AccountViews, store: EventStore, event: StoredEvent) -> Outcome:
    """Bring the account's view up to (at least) ``event``; see the module docstring."""
    current = views.get(event.aggregate_id)
    read_version = current.version if current else 0
    if event.version <= read_version:
        return Outcome("duplicate", current)
    in_order = event.version == read_version + 1
    missing = [event] if in_order else store.load(event.aggregate_id, after_version=read_version)
    new = fold(missing, current)
    if new is None:  # the store does not hold the event yet (cannot happen: the router reads its stream)
        raise ValueError(f"event {event.event_id} is not in the event store")
    views.save(new, read_version)
    return Outcome("applied" if in_order else "caught_up", new)
