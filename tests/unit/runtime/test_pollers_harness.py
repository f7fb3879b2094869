"""Shared parts of the poller tests (no tests here): moto over HTTP, a dummy function, a fake invoker.

The fake invoker runs plain Python functions in-process; what the poller tests
check is the pollers' behaviour against moto's real SQS, DynamoDB Streams and
S3 over HTTP, which is independent of how a handler is run.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
import traceback
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3
import httpx
from moto.server import ThreadedMotoServer

from instrumented_app.runtime.pollers import EventSourcePollers, install_moto_hooks
from instrumented_app.runtime.types import InvocationError, InvocationResult

REGION = "us-east-1"
Handler = Callable[[dict[str, Any]], Any]


@dataclass
class Call:
    function_name: str
    qualifier: str | None
    event: dict[str, Any]


@dataclass
class FakeInvoker:
    """Calls ``handlers[name](event)``; an exception becomes an error result, as the Invoker contract says."""

    handlers: dict[str, Handler] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def invoke(self, function_name: str, event: Any, *, qualifier: str | None = None) -> InvocationResult:
        handler = self.handlers.get(function_name)
        if handler is None:
            raise LookupError(function_name)
        with self._lock:
            self.calls.append(Call(function_name, qualifier, json.loads(json.dumps(event))))
        started = time.perf_counter()
        try:
            payload = handler(event)
            error = None
        except Exception as exc:
            payload = None
            error = InvocationError(type(exc).__name__, str(exc), traceback.format_exception(exc))
        return InvocationResult(
            function_name=function_name,
            version="$LATEST",
            request_id=str(uuid.uuid4()),
            payload=payload,
            error=error,
            duration_ms=(time.perf_counter() - started) * 1000,
        )

    def calls_to(self, function_name: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.function_name == function_name]


class MotoStack:
    """A moto server on loopback with boto3 clients pointed at it.

    moto's own Lambda delivery is switched off before anything is created, as the
    stack must do when it starts moto: otherwise moto consumes messages sent before
    the pollers start.
    """

    def __init__(self) -> None:
        install_moto_hooks()
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request drowns the failures
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        # moto's state is per process, not per server: start from nothing that earlier test modules left.
        httpx.post(f"{self.endpoint}/moto-api/reset", timeout=10).raise_for_status()
        httpx.post(
            f"{self.endpoint}/moto-api/config", json={"lambda": {"use_docker": False}}, timeout=10
        ).raise_for_status()
        self._role_arn: str | None = None

    def client(self, service: Any) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def create_function(self, name: str) -> str:
        """A function moto can list; its code never runs (the fake invoker runs Python instead)."""
        if self._role_arn is None:
            self._role_arn = self.client("iam").create_role(
                RoleName="poller-tests", AssumeRolePolicyDocument="{}"
            )["Role"]["Arn"]
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as zipped:
            zipped.writestr("handler.py", "def handler(event, context):\n    return None\n")
        created = self.client("lambda").create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=self._role_arn,
            Handler="handler.handler",
            Code={"ZipFile": archive.getvalue()},
        )
        return str(created["FunctionArn"])

    def stop(self) -> None:
        httpx.post(f"{self.endpoint}/moto-api/reset", timeout=10)
        self._server.stop()


@contextmanager
def running_pollers(stack: MotoStack, invoker: FakeInvoker, **options: Any) -> Iterator[EventSourcePollers]:
    pollers = EventSourcePollers(
        invoker, aws_endpoint=stack.endpoint, region=REGION, poll_interval_s=0.05, **options
    )
    pollers.start()
    try:
        yield pollers
    finally:
        pollers.stop()


def wait_for(predicate: Callable[[], bool], timeout: float = 10.0, interval: float = 0.05) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` passes (bounded)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def receive_into(sqs: Any, queue_url: str, received: list[dict[str, Any]]) -> bool:
    """Receive what a queue holds into ``received``; True once anything has arrived (for ``wait_for``)."""
    received.extend(sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", []))
    return bool(received)
