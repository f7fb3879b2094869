"""Reading every ``/aws/lambda/*`` log group forward from its saved position, page by page.

``get_log_events`` with ``startFromHead`` and ``nextForwardToken`` is the one read that is ordered
and resumable per stream on both AWS and moto: the end of a stream is reached when the token
comes back unchanged (AWS documents this; moto does the same). ``filter_log_events`` by start time
could miss events ingested late with older timestamps, so it is not used. A stream whose
``lastIngestionTime`` has not changed since it was read to the end is skipped without a call.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
from botocore.exceptions import BotoCoreError, ClientError

from collectors.errors import CollectorError, unreachable, write_errors
from collectors.logs.parse import LAMBDA_GROUP_PREFIX, ParsedEvent, StreamContext, parse_event
from collectors.logs.store import Position, commit_page, read_positions
from collectors.partitions import Partitions
from collectors.settings import PassLimits

AWS_ERRORS = (ClientError, BotoCoreError)


@dataclass
class LogPassStats:
    lines: int = 0
    invocations: int = 0
    problems: int = 0
    streams_read: int = 0
    streams_skipped: int = 0
    lost_races: int = 0
    errors: list[CollectorError] = field(default_factory=list)


class LogCollector:
    """One pass over the Lambda log groups; state lives in the audit store, not in this object."""

    def __init__(
        self,
        logs_client: Any,
        partitions: Partitions,
        limits: PassLimits | None = None,
        group_prefix: str = LAMBDA_GROUP_PREFIX,
    ) -> None:
        self._client = logs_client
        self._partitions = partitions
        self._limits = limits or PassLimits()
        self._prefix = group_prefix

    def run(self, conn: psycopg.Connection) -> LogPassStats:
        """Read what is new in every stream; errors on one group or stream are recorded, not raised."""
        stats = LogPassStats()
        try:
            groups = list(self._groups())
        except AWS_ERRORS as exc:
            stats.errors.append(unreachable("logs_unreachable", self._prefix, exc))
            groups = []
        for group in groups:
            try:
                self._group(conn, group, stats)
            except AWS_ERRORS as exc:
                stats.errors.append(unreachable("logs_unreachable", group, exc))
        write_errors(conn, stats.errors)
        return stats

    def _groups(self) -> Iterator[str]:
        for page in self._client.get_paginator("describe_log_groups").paginate(
            logGroupNamePrefix=self._prefix
        ):
            for group in page.get("logGroups", []):
                yield group["logGroupName"]

    def _group(self, conn: psycopg.Connection, group: str, stats: LogPassStats) -> None:
        positions = read_positions(conn, group)
        for page in self._client.get_paginator("describe_log_streams").paginate(logGroupName=group):
            for stream in page.get("logStreams", []):
                name = stream["logStreamName"]
                ingested = stream.get("lastIngestionTime")
                position = positions.get(name)
                if position is not None and ingested is not None and position.last_ingestion_ms == ingested:
                    stats.streams_skipped += 1
                    continue
                try:
                    self._stream(conn, StreamContext.of(group, name), position, ingested, stats)
                except AWS_ERRORS as exc:
                    stats.errors.append(unreachable("logs_unreachable", f"{group} {name}", exc))

    def _stream(
        self,
        conn: psycopg.Connection,
        ctx: StreamContext,
        position: Position | None,
        ingested: int | None,
        stats: LogPassStats,
    ) -> None:
        stats.streams_read += 1
        token = position.token if position else None
        seq = position.next_seq if position else 0
        for _ in range(self._limits.log_pages_per_stream):
            request: dict[str, Any] = {
                "logGroupName": ctx.log_group,
                "logStreamName": ctx.log_stream,
                "startFromHead": True,
                "limit": self._limits.log_page_size,
            }
            if token is not None:
                request["nextToken"] = token
            response = self._client.get_log_events(**request)
            events = response.get("events", [])
            next_token = response.get("nextForwardToken")
            at_end = next_token == token or (not events and next_token is None)
            parsed = parse_page(ctx, seq, events)
            new = Position(next_token or token, seq + len(parsed), ingested if at_end else None)
            if not commit_page(conn, self._partitions, ctx.log_group, ctx.log_stream, position, new, parsed):
                stats.lost_races += 1
                return
            stats.lines += len(parsed)
            stats.invocations += sum(1 for e in parsed if e.invocation is not None)
            stats.problems += sum(1 for e in parsed if e.problem is not None)
            position, token, seq = new, new.token, new.next_seq
            if at_end:
                return


def parse_page(ctx: StreamContext, first_seq: int, events: list[dict[str, Any]]) -> list[ParsedEvent]:
    """A ``get_log_events`` page -> parsed events numbered from ``first_seq`` in the page's order."""
    return [
        parse_event(ctx, first_seq + i, int(event["timestamp"]), str(event.get("message", "")))
        for i, event in enumerate(events)
    ]
