"""Event source mappings as the Lambda API describes them, read back from moto.

The pollers never take their configuration from the template: they read what
``ListEventSourceMappings`` returns, as the Lambda service does, so a mapping
created by CloudFormation, by boto3 or by a test is treated the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from instrumented_app.runtime.pollers.filters import pattern_error

SourceKind = Literal["sqs", "dynamodb"]

REPORT_BATCH_ITEM_FAILURES = "ReportBatchItemFailures"

log = logging.getLogger("instrumented_app.runtime.pollers")


class MappingError(ValueError):
    """A mapping the pollers cannot act on; the message names the field and the problem."""


@dataclass(frozen=True)
class FunctionTarget:
    """The function a mapping invokes: its name and, for an alias or version ARN, the qualifier."""

    name: str
    qualifier: str | None = None


@dataclass(frozen=True)
class EventSourceMapping:
    uuid: str
    kind: SourceKind
    event_source_arn: str
    function: FunctionTarget
    batch_size: int
    enabled: bool = True
    max_batching_window_s: float = 0.0
    report_batch_item_failures: bool = False
    starting_position: str | None = None  # streams: TRIM_HORIZON or LATEST
    maximum_retry_attempts: int | None = None  # streams: None or -1 means "until the record expires"
    bisect_on_error: bool = False
    filter_patterns: tuple[str, ...] = ()  # FilterCriteria.Filters[].Pattern, EventBridge pattern syntax
    maximum_record_age_s: int | None = None  # streams: None or -1 means "no limit"
    on_failure_destination: str | None = (
        None  # streams: DestinationConfig.OnFailure.Destination (SQS/SNS ARN)
    )
    function_arn: str = ""
    #: SQS: ScalingConfig.MaximumConcurrency, batches invoked at once (None: one at a time here).
    maximum_concurrency: int | None = None

    @property
    def region(self) -> str:
        return self.event_source_arn.split(":")[3]


def function_target(function_arn: str) -> FunctionTarget:
    """``arn:aws:lambda:r:a:function:name[:qualifier]`` -> name and qualifier."""
    parts = function_arn.split(":")
    if len(parts) not in (7, 8) or parts[2] != "lambda" or parts[5] != "function" or not parts[6]:
        raise MappingError(f"FunctionArn: not a Lambda function ARN: {function_arn!r}")
    return FunctionTarget(name=parts[6], qualifier=parts[7] if len(parts) == 8 else None)


def source_kind(event_source_arn: str) -> SourceKind | None:
    """Which poller handles an event source; None for sources this runtime does not poll (Kinesis, Kafka)."""
    parts = event_source_arn.split(":")
    if len(parts) < 6:
        raise MappingError(f"EventSourceArn: not an ARN: {event_source_arn!r}")
    if parts[2] == "sqs":
        return "sqs"
    if parts[2] == "dynamodb" and "/stream/" in parts[5]:
        return "dynamodb"
    return None


def parse_mapping(raw: Mapping[str, Any]) -> EventSourceMapping | None:
    """One entry of ``ListEventSourceMappings`` -> a mapping, or None when no poller here serves it."""
    for required in ("UUID", "EventSourceArn", "FunctionArn"):
        if not raw.get(required):
            raise MappingError(f"{required}: missing from event source mapping {raw.get('UUID', '?')}")
    kind = source_kind(str(raw["EventSourceArn"]))
    if kind is None:
        return None
    batch_size = raw.get("BatchSize")
    if batch_size is None:
        batch_size = 10 if kind == "sqs" else 100
    if not isinstance(batch_size, int) or batch_size < 1:
        raise MappingError(f"BatchSize: must be a positive integer, got {batch_size!r}")
    window = raw.get("MaximumBatchingWindowInSeconds")
    if window is None:
        window = 0
    if not isinstance(window, int | float) or window < 0:
        raise MappingError(f"MaximumBatchingWindowInSeconds: must be >= 0, got {window!r}")
    retries = raw.get("MaximumRetryAttempts")
    if retries is not None and (not isinstance(retries, int) or retries < -1):
        raise MappingError(f"MaximumRetryAttempts: must be -1 or a non-negative integer, got {retries!r}")
    max_age = raw.get("MaximumRecordAgeInSeconds")
    if max_age is not None and (not isinstance(max_age, int) or max_age < -1):
        raise MappingError(
            f"MaximumRecordAgeInSeconds: must be -1 or a non-negative integer, got {max_age!r}"
        )
    concurrency = (raw.get("ScalingConfig") or {}).get("MaximumConcurrency")
    if concurrency is not None and (not isinstance(concurrency, int) or not 2 <= concurrency <= 1000):
        raise MappingError(
            f"ScalingConfig.MaximumConcurrency: must be an integer from 2 to 1000, got {concurrency!r}"
        )
    return EventSourceMapping(
        uuid=str(raw["UUID"]),
        kind=kind,
        event_source_arn=str(raw["EventSourceArn"]),
        function=function_target(str(raw["FunctionArn"])),
        batch_size=batch_size,
        enabled=raw.get("State", "Enabled") in ("Enabled", "Enabling", "Updating"),
        max_batching_window_s=float(window),
        report_batch_item_failures=REPORT_BATCH_ITEM_FAILURES in (raw.get("FunctionResponseTypes") or []),
        starting_position=raw.get("StartingPosition"),
        maximum_retry_attempts=None if retries in (None, -1) else retries,
        bisect_on_error=bool(raw.get("BisectBatchOnFunctionError")),
        filter_patterns=filter_patterns(raw.get("FilterCriteria")),
        maximum_record_age_s=None if max_age in (None, -1) else max_age,
        on_failure_destination=on_failure_destination(raw.get("DestinationConfig")),
        function_arn=str(raw["FunctionArn"]),
        maximum_concurrency=concurrency,
    )


def on_failure_destination(config: Any) -> str | None:
    """``DestinationConfig`` -> the ARN that discarded stream batches are reported to, if any."""
    if not config:
        return None
    destination = (config.get("OnFailure") or {}).get("Destination") if isinstance(config, Mapping) else None
    if destination is None:
        return None
    service = str(destination).split(":")[2] if str(destination).count(":") >= 5 else ""
    if service not in ("sqs", "sns"):
        raise MappingError(
            f"DestinationConfig.OnFailure.Destination: not an SQS queue or SNS topic ARN: {destination!r}"
        )
    return str(destination)


def filter_patterns(criteria: Any) -> tuple[str, ...]:
    """``FilterCriteria`` -> its patterns, each checked, so a bad one is reported by its place."""
    if not criteria:
        return ()
    filters = criteria.get("Filters") if isinstance(criteria, Mapping) else None
    if not isinstance(filters, list):
        raise MappingError("FilterCriteria.Filters: must be a list")
    patterns: list[str] = []
    for position, entry in enumerate(filters):
        pattern = entry.get("Pattern") if isinstance(entry, Mapping) else None
        problem = "missing" if not isinstance(pattern, str) else pattern_error(pattern)
        if problem:
            raise MappingError(f"FilterCriteria.Filters[{position}].Pattern: {problem}")
        assert isinstance(pattern, str)
        patterns.append(pattern)
    return tuple(patterns)


def read_mappings(lambda_client: Any) -> list[EventSourceMapping]:
    """Every mapping the Lambda API lists that a poller here serves (all pages).

    A mapping the pollers cannot act on is left out with an error log line naming
    it and the field, so that one bad mapping does not stop the others.
    """
    found: list[EventSourceMapping] = []
    for page in lambda_client.get_paginator("list_event_source_mappings").paginate():
        for raw in page.get("EventSourceMappings", []):
            try:
                mapping = parse_mapping(raw)
            except MappingError as problem:
                log.error("event source mapping %s not polled: %s", raw.get("UUID", "?"), problem)
                continue
            if mapping is not None:
                found.append(mapping)
    return found
