"""Record helpers the three models share: JSON snapshots of dataclass records, text equality."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

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
