"""The inventory consumer of the order events topic (SNS -> its own SQS queue and DLQ -> this function).

Its subscription's filter policy (the template; ``instrumented_app.fanout.routing``) picks the event
types it gets; what it does with one is ``instrumented_app.fanout.effects.inventory``, recorded once per
order and event type; the batch, partial failures and per-record spans are ``fanout.consumer``.
"""

from __future__ import annotations

from instrumented_app.fanout.consumer import consumer_handler
from instrumented_app.telemetry import instrumented

handler = instrumented(consumer_handler("inventory"))
