"""Shared parts of the invoker tests (no tests here): moto over HTTP and functions made through its API.

Functions are created with boto3 ``create_function`` against a real
``ThreadedMotoServer`` on loopback (a dummy zip: the code is importable from the
repo, as the handler path says), then run by a real ``LocalInvoker``.
"""

from __future__ import annotations

import io
import os
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import boto3
import httpx
from moto.server import ThreadedMotoServer

REGION = "us-east-1"
HANDLERS = "tests.unit.runtime.handlers"
MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
T = TypeVar("T")


def _dummy_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("placeholder.py", "# the handler is imported from the repository\n")
    return buffer.getvalue()


@dataclass
class MotoStack:
    endpoint: str
    role_arn: str

    def client(self, service: str) -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def create_function(
        self,
        handler: str,
        *,
        name: str | None = None,
        timeout: int = 3,
        memory: int = 128,
        env: dict[str, str] | None = None,
    ) -> str:
        """A function whose handler is ``tests.unit.runtime.handlers.<handler>``; returns its name."""
        name = name or f"fn-{uuid.uuid4().hex[:10]}"
        self.client("lambda").create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=self.role_arn,
            Handler=f"{HANDLERS}.{handler}",
            Code={"ZipFile": _dummy_zip()},
            Timeout=timeout,
            MemorySize=memory,
            Environment={"Variables": env or {}},
        )
        return name


@contextmanager
def moto_stack() -> Iterator[MotoStack]:
    """moto in server mode on 127.0.0.1 (port 0), configured as ``sagawatch up`` configures it."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    previous_port = os.environ.get("MOTO_PORT")
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        # moto's Step Functions calls its own Lambda API at localhost:$MOTO_PORT.
        os.environ["MOTO_PORT"] = str(port)
        httpx.post(f"{endpoint}/moto-api/config", json=MOTO_CONFIG, timeout=10).raise_for_status()
        # moto's backends are process-wide: another server in this process may have made things already.
        iam = boto3.client(
            "iam",
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        role = iam.create_role(
            RoleName=f"lambda-runtime-{uuid.uuid4().hex[:8]}", AssumeRolePolicyDocument="{}"
        )
        yield MotoStack(endpoint=endpoint, role_arn=role["Role"]["Arn"])
    finally:
        if previous_port is None:
            os.environ.pop("MOTO_PORT", None)
        else:
            os.environ["MOTO_PORT"] = previous_port
        server.stop()


def wait_for(probe: Callable[[], T], *, timeout_s: float = 10.0, what: str = "condition") -> T:
    """Poll ``probe`` until it returns something truthy; bounded, so a broken path fails, not hangs."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.05)


def log_messages(stack: MotoStack, function_name: str) -> list[tuple[str, str]]:
    """Every (stream, message) in ``/aws/lambda/<fn>``, streams in name order."""
    logs = stack.client("logs")
    group = f"/aws/lambda/{function_name}"
    try:
        streams = logs.describe_log_streams(logGroupName=group)["logStreams"]
    except logs.exceptions.ResourceNotFoundException:
        return []
    found = []
    for stream in sorted(s["logStreamName"] for s in streams):
        events = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True)["events"]
        found += [(stream, e["message"]) for e in events]
    return found
