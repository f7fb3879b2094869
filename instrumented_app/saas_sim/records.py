"""Record helpers the models share: JSON snapshots, text equality, id windows, all-or-nothing loads."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import AwareDatetime, BaseModel, ValidationError

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


class ImportStamps(BaseModel):
    """Timestamps a bulk import may set (``POST /_admin/records``); absent, the clock's now."""

    created_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None


class LoadRejected(ValueError):
    """A bulk import refused; nothing of it was written. The message names the record and field."""

    def __init__(self, index: int, field: str, problem: str) -> None:
        super().__init__(f"records[{index}].{field}: {problem}")


def load_all(
    entries: Sequence[Mapping[str, Any]],
    insert: Callable[[Mapping[str, Any]], RecordT],
    remove: Callable[[RecordT], object],
    rejection: Callable[[Exception], tuple[str, str] | None],
) -> int:
    """Insert every entry or none: on the first refusal, remove what was inserted and raise.

    ``rejection`` turns a model's own validation error into (field, problem);
    any other exception is a bug and propagates as it is (after the rollback).
    """
    added: list[RecordT] = []
    try:
        for index, entry in enumerate(entries):
            try:
                added.append(insert(entry))
            except Exception as exc:
                named = rejection(exc)
                if named is None:
                    raise
                raise LoadRejected(index, *named) from exc
    except BaseException:
        for record in reversed(added):
            remove(record)
        raise
    return len(added)


Loader = Callable[[Sequence[Any]], int]


def make_loader(item_model: type[BaseModel], load: Callable[[Sequence[Mapping[str, Any]]], int]) -> Loader:
    """A bulk import: check every item against ``item_model`` first, then ``load`` them all."""

    def loader(records: Sequence[Any]) -> int:
        entries: list[Mapping[str, Any]] = []
        for index, raw in enumerate(records):
            try:
                entries.append(item_model.model_validate(raw).model_dump(exclude_unset=True))
            except ValidationError as exc:
                error = exc.errors()[0]
                field = ".".join(str(part) for part in error["loc"]) or "record"
                raise LoadRejected(index, field, error["msg"]) from exc
        return load(entries)

    return loader
