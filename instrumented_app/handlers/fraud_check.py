"""Fraud check: a target of the EventBridge rule for placed orders with ``amount >= 10000``.

EventBridge -> SQS queue (and DLQ) -> this function; the verdict (``clear`` or
``review`` with its reasons) is ``instrumented_app.fanout.effects.fraud_check``,
recorded in the order effects ledger.
"""

from __future__ import annotations

from instrumented_app.fanout.consumer import consumer_handler
from instrumented_app.telemetry import instrumented

handler = instrumented(consumer_handler("fraud_check"))
