"""Read each log group's new events, stream by stream, from where the last pass stopped.

CloudWatch applies metric filters to events as they are ingested; locally the engine reads what
was ingested since its last pass instead. ``get_log_events`` is used (not ``filter_log_events``,
whose JSON patterns moto ignores): the engine applies the patterns itself. Positions are the
forward tokens, kept in memory per stream; streams whose ``lastIngestionTime`` has not moved are
not read at all.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from alarms.evaluate.metric_filter import LogEvent

log = logging.getLogger(__name__)

#: Events per get_log_events page (the API's maximum is 10,000).
PAGE_LIMIT = 10_000
#: Streams listed per group and pass (most recently written first).
MAX_STREAMS = 500


@dataclass
class _Position:
    token: str | None = None
    last_ingestion: int | None = None


class LogTail:
    """New events per log group since the previous call; bounded by ``max_pages`` per stream."""

    def __init__(self, logs: Any, max_pages: int = 50, page_limit: int = PAGE_LIMIT) -> None:
        self._logs = logs
        self._max_pages = max_pages
        self._page_limit = page_limit
        self._positions: dict[tuple[str, str], _Position] = {}

    def new_events(self, log_group: str) -> list[LogEvent]:
        events: list[LogEvent] = []
        for stream in self._streams(log_group):
            key = (log_group, stream["logStreamName"])
            position = self._positions.setdefault(key, _Position())
            ingested = stream.get("lastIngestionTime")
            if ingested is not None and ingested == position.last_ingestion:
                continue
            read, complete = self._read(log_group, stream["logStreamName"], position)
            events.extend(read)
            if complete:  # a stream cut short by max_pages is read again next pass
                position.last_ingestion = ingested
        return events

    def _streams(self, log_group: str) -> list[dict[str, Any]]:
        streams: list[dict[str, Any]] = []
        params: dict[str, Any] = {"logGroupName": log_group, "orderBy": "LastEventTime", "descending": True}
        try:
            while len(streams) < MAX_STREAMS:
                page = self._logs.describe_log_streams(**params)
                streams.extend(page.get("logStreams", []))
                if not page.get("nextToken"):
                    break
                params["nextToken"] = page["nextToken"]
        except self._logs.exceptions.ResourceNotFoundException:
            return []  # the group is not there yet (a function that never ran)
        return streams[:MAX_STREAMS]

    def _read(self, log_group: str, stream: str, position: _Position) -> tuple[list[LogEvent], bool]:
        events: list[LogEvent] = []
        for _ in range(self._max_pages):
            params: dict[str, Any] = {
                "logGroupName": log_group,
                "logStreamName": stream,
                "startFromHead": True,
                "limit": self._page_limit,
            }
            if position.token:
                params["nextToken"] = position.token
            page = self._logs.get_log_events(**params)
            events.extend(LogEvent(timestamp=e["timestamp"], message=e["message"]) for e in page["events"])
            token = page.get("nextForwardToken")
            unchanged = token == position.token
            position.token = token or position.token
            if unchanged or not page["events"]:
                return events, True  # the forward token stays put at the end of the stream
        log.warning(
            "alarms: %s/%s has more than %d pages of new events; the rest next pass",
            log_group,
            stream,
            self._max_pages,
        )
        return events, False
