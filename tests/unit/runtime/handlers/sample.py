"""Handlers the runtime tests invoke through a worker process, as Lambda would."""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any

#: Module state survives between invocations of a warm environment, as on Lambda.
CALLS = 0
print("init: sample module imported")


def echo(event: Any, context: Any) -> dict[str, Any]:
    global CALLS
    CALLS += 1
    print(f"echo called with {event!r}")
    return {
        "event": event,
        "calls": CALLS,
        "pid": os.getpid(),
        "greeting": os.environ.get("GREETING"),
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "aws_request_id": context.aws_request_id,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "endpoint": os.environ.get("AWS_ENDPOINT_URL"),
        "parent_only": os.environ.get("SAGAWATCH_TEST_PARENT_ONLY"),
    }


def fail(event: Any, context: Any) -> None:
    print("about to fail")
    raise ValueError(f"order {event.get('order_id')} is not payable")


def sleep(event: Any, context: Any) -> str:
    print("going to sleep", flush=True)
    time.sleep(float(event.get("seconds", 10)))
    return "woke up"


def pause(event: Any, context: Any) -> int:
    """Hold the environment for a while, so concurrent calls need environments of their own."""
    time.sleep(float(event.get("seconds", 0.3)))
    return os.getpid()


def crash(event: Any, context: Any) -> None:
    print("crashing")
    sys.stdout.flush()
    os._exit(3)


def unmarshalable(event: Any, context: Any) -> object:
    return {"when": object()}


FLAKY_CALLS = 0


def flaky(event: Any, context: Any) -> dict[str, Any]:
    """Fails its first call in an environment, then succeeds: what ASL Retry is for."""
    global FLAKY_CALLS
    FLAKY_CALLS += 1
    if FLAKY_CALLS == 1:
        raise ConnectionError("payment provider unavailable")
    return {"charged": event.get("amount"), "attempt": FLAKY_CALLS}


def environ(event: Any, context: Any) -> dict[str, str]:
    return dict(os.environ)


def huge(event: Any, context: Any) -> str:
    return "x" * (7 * 1024 * 1024)


def uses_logging(event: Any, context: Any) -> None:
    """Plain ``logging``, no Powertools: Lambda's runtime formats it."""
    logging.getLogger("stock").warning("low stock for %s", event.get("sku"))
    logging.getLogger("stock").info("not shown: the root level is WARNING")


def stream_facts(event: Any, context: Any) -> dict[str, Any]:
    return {"encoding": sys.stdout.encoding, "isatty": sys.stdout.isatty(), "writable": sys.stdout.writable()}
