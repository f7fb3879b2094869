"""``sagawatch demo PATTERN``: each pattern of DESIGN.md's table driven end to end on the running stack.

A demo talks to the stack only over the wire (the API front, boto3 against
moto, the simulators' HTTP), as a client or an operator would, and says step by
step what happened and where to look. Adding a demo is one module with a
``run(stack, say) -> bool`` function and one entry in ``DEMOS``.
"""

from __future__ import annotations

from collections.abc import Callable

from sagawatch.stack_info import StackInfo

#: A demo: (the running stack, a printer) -> whether the pattern behaved.
Demo = Callable[[StackInfo, Callable[[str], None]], bool]

#: pattern name -> "module:function"; imported only when that demo runs.
DEMOS: dict[str, str] = {
    "customer_saga": "instrumented_app.demo.customer_saga:run",
    "gatekeeper": "instrumented_app.demo.gatekeeper:run",
    "queue_worker": "instrumented_app.demo.queue_worker:run",
    "crud": "instrumented_app.demo.crud:run",
    "cqrs": "instrumented_app.demo.cqrs:run",
    "event_sourcing": "instrumented_app.demo.event_sourcing:run",
    "event_sourcing_replay": "instrumented_app.demo.event_sourcing:replay",
    "order_saga": "instrumented_app.demo.order_saga:run",
    "member_merge": "instrumented_app.demo.member_merge:run",
    "fanout": "instrumented_app.demo.fanout:run",
    "routing": "instrumented_app.demo.routing:run",
    "thumbnails": "instrumented_app.demo.thumbnails:run",
    "canary": "instrumented_app.demo.canary:run",
    "facade": "instrumented_app.demo.facade:run",
}
