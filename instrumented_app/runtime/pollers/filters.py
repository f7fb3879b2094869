"""Lambda event filtering (``FilterCriteria``): which records of a batch reach the function.

Lambda filters with EventBridge's pattern language; moto's EventBridge matcher
(``moto.events.models.EventPattern``) implements it, so it is reused rather than
written again. A record matches when any of the mapping's patterns matches.
Per Lambda's rules an SQS record's ``body`` is matched as JSON when it parses as
JSON, else as the plain string; filtered-out SQS messages are deleted and
filtered-out stream records are skipped (the callers do that).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any


class RecordFilter:
    """A mapping's filter patterns, compiled once."""

    def __init__(self, patterns: Sequence[str]) -> None:
        from moto.events.models import EventPattern

        self._patterns = [EventPattern.load(pattern) for pattern in patterns]

    def __bool__(self) -> bool:
        return bool(self._patterns)

    def matches(self, record: Mapping[str, Any]) -> bool:
        if not self._patterns:
            return True
        subject: Any = _with_json_body(record)  # moto types its argument as an EventBridge event
        return any(pattern.matches_event(subject) for pattern in self._patterns)


def _with_json_body(record: Mapping[str, Any]) -> Mapping[str, Any]:
    body = record.get("body")
    if not isinstance(body, str):
        return record
    try:
        parsed = json.loads(body)
    except ValueError:
        return record
    return {**record, "body": parsed} if isinstance(parsed, dict) else record


def pattern_error(pattern: str) -> str | None:
    """Why a filter pattern is unusable, or None when it is fine."""
    from moto.events.exceptions import InvalidEventPatternException
    from moto.events.models import EventPattern

    try:
        EventPattern.load(pattern)
    except InvalidEventPatternException as exc:
        return str(getattr(exc, "message", exc))
    return None
