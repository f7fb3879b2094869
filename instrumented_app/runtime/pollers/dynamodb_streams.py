"""The DynamoDB Streams side of Lambda's event source mapping.

Per shard, in order, parent shards before their children: read a batch with
``GetRecords``, invoke, and move the shard's checkpoint only after success. A
failed batch is retried as it was (the stream does not move on), until
``MaximumRetryAttempts`` is spent; then it is skipped with an error log line,
as Lambda discards it. With ``BisectBatchOnFunctionError`` a failing batch is
split in halves first (splits do not count as retries, as on Lambda); with
``ReportBatchItemFailures`` the checkpoint moves to just before the lowest
reported sequence number and only the rest is retried.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.exceptions import ClientError

from instrumented_app.runtime.pollers.base import MAX_BACKOFF_S, MappingPoller, log
from instrumented_app.runtime.pollers.batch_response import BatchOutcome, invocation_outcome
from instrumented_app.runtime.pollers.destinations import FailureDestinations
from instrumented_app.runtime.pollers.events import dynamodb_event, dynamodb_record, stream_batch_failure
from instrumented_app.runtime.pollers.mappings import EventSourceMapping
from instrumented_app.runtime.types import InvocationResult, Invoker

#: Seconds between ``DescribeStream`` calls that look for new shards.
SHARD_REFRESH_S = 2.0
#: Errors after which a shard iterator is fetched again from the checkpoint.
STALE_ITERATOR_ERRORS = {"ExpiredIteratorException", "TrimmedDataAccessException"}


@dataclass
class ShardState:
    shard_id: str
    parent_id: str | None
    start_at: str  # TRIM_HORIZON or LATEST, for when there is no checkpoint yet
    iterator: str | None = None
    checkpoint: str | None = None  # the last sequence number delivered (or skipped)
    pending: list[dict[str, Any]] = field(default_factory=list)  # read, not yet delivered
    window: int | None = None  # bisection: how many of ``pending`` go in the next invocation
    attempts: int = 0  # failed invocations of the current window
    closed: bool = False  # the shard has no more records (no NextShardIterator)

    @property
    def finished(self) -> bool:
        return self.closed and not self.pending


def order_shards(shards: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Shards with every parent before its children (``DescribeStream`` does not promise that order)."""
    by_id = {shard["ShardId"]: shard for shard in shards}
    ordered: list[Mapping[str, Any]] = []
    placed: set[str] = set()

    visiting: set[str] = set()

    def place(shard: Mapping[str, Any]) -> None:
        shard_id = shard["ShardId"]
        if shard_id in placed or shard_id in visiting:  # visiting: a malformed cycle cannot loop
            return
        visiting.add(shard_id)
        parent = by_id.get(shard.get("ParentShardId") or "")
        if parent is not None:
            place(parent)
        placed.add(shard_id)
        ordered.append(shard)

    for shard in shards:
        place(shard)
    return ordered


@dataclass(frozen=True)
class StreamStep:
    """What a batch's outcome means for the shard: how many records are done and whether to retry."""

    done: int  # leading records of the window that are delivered (checkpoint moves past them)
    retry: bool


def stream_step(records: Sequence[Mapping[str, Any]], outcome: BatchOutcome) -> StreamStep:
    """Lambda's reading of an outcome for a stream batch: everything before the lowest failure is done."""
    if outcome.whole_batch:
        return StreamStep(done=0, retry=True)
    if not outcome.failed_ids:
        return StreamStep(done=len(records), retry=False)
    for index, record in enumerate(records):
        if record["dynamodb"]["SequenceNumber"] in outcome.failed_ids:
            return StreamStep(done=index, retry=True)
    return StreamStep(done=len(records), retry=False)


class DynamoDbStreamPoller(MappingPoller):
    def __init__(
        self,
        mapping: EventSourceMapping,
        invoker: Invoker,
        *,
        session: boto3.session.Session,
        aws_endpoint: str,
        poll_interval_s: float,
        destinations: FailureDestinations | None = None,
        streams_client: Any = None,
    ) -> None:
        super().__init__(mapping, invoker, poll_interval_s=poll_interval_s)
        self._destinations = destinations or FailureDestinations(session, aws_endpoint)
        # streams_client: a stand-in for unit tests of shard handling (moto keeps one shard per stream).
        self._streams: Any = streams_client or session.client(
            "dynamodbstreams", endpoint_url=aws_endpoint, region_name=mapping.region
        )
        self._shards: dict[str, ShardState] = {}  # insertion order = parents first
        self._next_shard_refresh = 0.0

    # -- shards --------------------------------------------------------------------------------------

    def _refresh_shards(self) -> None:
        if time.monotonic() < self._next_shard_refresh:
            return
        self._next_shard_refresh = time.monotonic() + SHARD_REFRESH_S
        shards: list[Mapping[str, Any]] = []
        start_after: str | None = None
        for _page in range(1000):  # bounded pagination
            kwargs: dict[str, Any] = {"StreamArn": self.mapping.event_source_arn}
            if start_after:
                kwargs["ExclusiveStartShardId"] = start_after
            description = self._streams.describe_stream(**kwargs)["StreamDescription"]
            shards.extend(description.get("Shards", []))
            start_after = description.get("LastEvaluatedShardId")
            if not start_after:
                break
        first_look = not self._shards
        for shard in order_shards(shards):
            if shard["ShardId"] not in self._shards:
                start_at = (
                    (self.mapping.starting_position or "TRIM_HORIZON") if first_look else "TRIM_HORIZON"
                )
                self._shards[shard["ShardId"]] = ShardState(
                    shard["ShardId"], shard.get("ParentShardId"), start_at
                )

    def _ready(self, state: ShardState) -> bool:
        parent = self._shards.get(state.parent_id or "")
        return not state.finished and (parent is None or parent.finished)

    def poll_once(self) -> bool:
        self._refresh_shards()
        delivered = False
        for state in list(self._shards.values()):
            if self.stopping:
                break
            if self._ready(state):
                delivered = self._poll_shard(state) or delivered
        return delivered

    # -- one shard -----------------------------------------------------------------------------------

    def _iterator(self, state: ShardState) -> str:
        if state.iterator is None:
            kwargs: dict[str, Any] = {"StreamArn": self.mapping.event_source_arn, "ShardId": state.shard_id}
            if state.checkpoint is not None:
                kwargs |= {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": state.checkpoint}
            else:
                kwargs["ShardIteratorType"] = state.start_at
            state.iterator = self._streams.get_shard_iterator(**kwargs)["ShardIterator"]
        return state.iterator

    def _read(self, state: ShardState) -> None:
        try:
            response = self._streams.get_records(
                ShardIterator=self._iterator(state), Limit=self.mapping.batch_size
            )
        except ClientError as error:
            # Whatever went wrong, the next read starts from a fresh iterator at the checkpoint
            # (nothing is pending here, so the checkpoint is exactly what was delivered).
            state.iterator = None
            if error.response.get("Error", {}).get("Code") in STALE_ITERATOR_ERRORS:
                return
            raise
        state.iterator = response.get("NextShardIterator")
        state.closed = state.iterator is None
        state.pending = self._filtered(state, list(response.get("Records", [])))
        state.window = None
        state.attempts = 0

    def _filtered(self, state: ShardState, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Drop what the mapping's ``FilterCriteria`` leave out; the checkpoint moves past them."""
        record_filter = self.record_filter()
        if not record_filter or not records:
            return records
        arn, region = self.mapping.event_source_arn, self.mapping.region
        kept = [r for r in records if record_filter.matches(dynamodb_record(r, arn, region))]
        if not kept:
            state.checkpoint = records[-1]["dynamodb"]["SequenceNumber"]
        return kept

    def _poll_shard(self, state: ShardState) -> bool:
        if not state.pending:
            self._read(state)
            if not state.pending:
                return False
        mapping = self.mapping
        expired = self._expired(state.pending, mapping)
        if expired:
            self._discard(state, expired, "RecordAgeExceeded", result=None)
            if not state.pending:
                return True
        batch = state.pending[: state.window or len(state.pending)]
        result = self.invoke(dynamodb_event(batch, mapping.event_source_arn, mapping.region))
        outcome = invocation_outcome(
            result,
            {r["dynamodb"]["SequenceNumber"] for r in batch},
            report_batch_item_failures=mapping.report_batch_item_failures,
        )
        step = stream_step(batch, outcome)
        self._advance(state, step.done)
        if step.retry:
            self._after_failure(state, mapping, outcome, result)
        return True

    @staticmethod
    def _expired(records: list[dict[str, Any]], mapping: EventSourceMapping) -> int:
        """How many leading records are older than ``MaximumRecordAgeInSeconds``."""
        if mapping.maximum_record_age_s is None:
            return 0
        cutoff = datetime.now(UTC) - timedelta(seconds=mapping.maximum_record_age_s)
        count = 0
        for record in records:
            created = record["dynamodb"].get("ApproximateCreationDateTime")
            if not isinstance(created, datetime) or created >= cutoff:
                break
            count += 1
        return count

    def _advance(self, state: ShardState, done: int) -> None:
        if done:
            state.checkpoint = state.pending[done - 1]["dynamodb"]["SequenceNumber"]
            del state.pending[:done]
            state.attempts = 0

    def _after_failure(
        self,
        state: ShardState,
        mapping: EventSourceMapping,
        outcome: BatchOutcome,
        result: InvocationResult | None,
    ) -> None:
        window = state.window or len(state.pending)
        if mapping.bisect_on_error and outcome.whole_batch and window > 1:
            state.window = window // 2  # a split is not a retry
            return
        state.attempts += 1
        limit = mapping.maximum_retry_attempts
        if limit is not None and state.attempts > limit:
            self._discard(state, window, "RetryAttemptsExhausted", result)
            return
        self.sleep(min(self._poll_interval_s * 2 ** min(state.attempts, 10), MAX_BACKOFF_S))

    def _discard(
        self, state: ShardState, count: int, condition: str, result: InvocationResult | None
    ) -> None:
        """Skip the first ``count`` pending records, reporting them to the on-failure destination if any."""
        skipped = state.pending[:count]
        mapping = self.mapping
        log.error(
            "mapping %s: discarding %d stream records of shard %s (%s..%s): %s%s",
            mapping.uuid,
            len(skipped),
            state.shard_id,
            skipped[0]["dynamodb"]["SequenceNumber"],
            skipped[-1]["dynamodb"]["SequenceNumber"],
            condition,
            f", reported to {mapping.on_failure_destination}" if mapping.on_failure_destination else "",
        )
        if mapping.on_failure_destination:
            record = stream_batch_failure(
                skipped,
                shard_id=state.shard_id,
                stream_arn=mapping.event_source_arn,
                function_arn=mapping.function_arn,
                condition=condition,
                invoke_count=state.attempts,
                result=result,
                now=datetime.now(UTC),
            )
            self._destinations.send(mapping.on_failure_destination, record)
        self._advance(state, len(skipped))
        state.window = None
