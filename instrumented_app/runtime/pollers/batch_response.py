"""What Lambda makes of a function's partial batch response (``ReportBatchItemFailures``).

Lambda's rules, for SQS and for streams alike: the batch is a complete success
when the response is null, empty, has no ``batchItemFailures`` or an empty or
null list; it is a complete failure when an entry is malformed (missing, null or
empty ``itemIdentifier``) or names an item that was not in the batch.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from instrumented_app.runtime.types import InvocationResult


@dataclass(frozen=True)
class BatchOutcome:
    """Which items of a batch failed. ``whole_batch`` means every item failed."""

    failed_ids: frozenset[str] = frozenset()
    whole_batch: bool = False
    reason: str = ""

    def failed(self, item_id: str) -> bool:
        return self.whole_batch or item_id in self.failed_ids


SUCCESS = BatchOutcome()


def whole_batch_failed(reason: str) -> BatchOutcome:
    return BatchOutcome(whole_batch=True, reason=reason)


def partial_batch_outcome(payload: Any, batch_ids: Collection[str]) -> BatchOutcome:
    """Read a successful invocation's payload as a partial batch response."""
    if payload is None or payload == {} or payload == "":
        return SUCCESS
    if not isinstance(payload, dict):
        return whole_batch_failed(f"response is not a JSON object: {type(payload).__name__}")
    failures = payload.get("batchItemFailures")
    if failures is None or failures == []:
        return SUCCESS
    if not isinstance(failures, list):
        return whole_batch_failed("batchItemFailures is not a list")
    failed: set[str] = set()
    for position, entry in enumerate(failures):
        item_id = entry.get("itemIdentifier") if isinstance(entry, dict) else None
        if not isinstance(item_id, str) or not item_id:
            return whole_batch_failed(f"batchItemFailures[{position}].itemIdentifier is missing or empty")
        if item_id not in batch_ids:
            return whole_batch_failed(f"batchItemFailures[{position}].itemIdentifier is not in the batch")
        failed.add(item_id)
    return BatchOutcome(failed_ids=frozenset(failed))


def invocation_outcome(
    result: InvocationResult | None, batch_ids: Collection[str], *, report_batch_item_failures: bool
) -> BatchOutcome:
    """An invocation's result (None: the function does not exist) -> which items of the batch failed."""
    if result is None:
        return whole_batch_failed("function not found")
    if result.error is not None:
        return whole_batch_failed(f"{result.error.error_type}: invocation failed")
    if report_batch_item_failures:
        return partial_batch_outcome(result.payload, batch_ids)
    return SUCCESS
