"""Record helpers the models share: JSON snapshots of dataclass records, text equality, id windows."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

RecordT = TypeVar("RecordT")


def record_to_json(record: Any) -> dict[str, Any]:
    """A dataclass record as JSON-ready values (datetimes in ISO 8601)."""
    return {
        name: value.isoformat() if isinstance(value, datetime) else value
        for name, value in dataclasses.asdict(record).items()
    }


def record_from_json(cls: type[RecordT], item: Mapping[str, Any]) -> RecordT:
    """The inverse of ``record_to_json`` for the dataclass ``cls``."""
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        value = item[field.name]
        values[field.name] = datetime.fromisoformat(value) if field.type == "datetime" else value
    return cls(**values)


def same_text(left: str | None, right: str) -> bool:
    """Case-insensitive equality, as the vendors compare emails and external ids."""
    return left is not None and left.casefold() == right.casefold()


@dataclass(frozen=True)
class Window(Generic[RecordT]):
    """One page of records in id order, and whether records lie before and after it."""

    items: list[RecordT]
    has_before: bool
    has_after: bool


def id_window(
    records: Iterable[RecordT],
    record_id: Callable[[RecordT], int],
    limit: int,
    after: int | None = None,
    before: int | None = None,
) -> Window[RecordT]:
    """``limit`` records just after ``after`` (or just before ``before``), by ascending id.

    This is how a cursor on an ever-growing id walks a list: records inserted
    meanwhile get higher ids, so a forward walk meets each record once.
    """
    ordered = sorted(records, key=record_id)
    if before is not None:
        page = [record for record in ordered if record_id(record) < before][-limit:]
    else:
        page = [record for record in ordered if after is None or record_id(record) > after][:limit]
    if not page:
        return Window(page, has_before=False, has_after=False)
    first, last = record_id(page[0]), record_id(page[-1])
    return Window(
        page,
        has_before=any(record_id(record) < first for record in ordered),
        has_after=any(record_id(record) > last for record in ordered),
    )
