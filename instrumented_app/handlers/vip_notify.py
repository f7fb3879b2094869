"""VIP notify: a target of the EventBridge rule for placed orders with ``amount >= 10000``.

EventBridge -> SQS queue (and DLQ) -> this function (moto 5.2.5 cannot target a
Lambda from a rule, and a queue in between is the sturdier design anyway: it
buffers and retries). What it does is ``instrumented_app.fanout.effects.vip_notify``.
"""

from __future__ import annotations

from instrumented_app.fanout.consumer import consumer_handler
from instrumented_app.telemetry import instrumented

handler = instrumented(consumer_handler("vip_notify"))
