"""A moto server on loopback configured as ``sagawatch up`` configures it, for the provisioning tests."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import httpx
from moto.server import ThreadedMotoServer

from sagawatch.stack.aws import MOTO_CONFIG

REGION = "us-east-1"


@contextmanager
def moto_server() -> Iterator[str]:
    """The endpoint of a fresh moto server, stopped (and its process-wide state reset) afterwards."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    # as `sagawatch up` configures it: ASL executes for real, Lambda never looks for Docker.
    # moto's state and config are process-wide, shared by every server in this process: start
    # from nothing, and put back what other tests in this process expect afterwards.
    httpx.post(f"{endpoint}/moto-api/reset", timeout=10).raise_for_status()
    before = httpx.get(f"{endpoint}/moto-api/config", timeout=10).json()
    httpx.post(f"{endpoint}/moto-api/config", json=MOTO_CONFIG, timeout=10).raise_for_status()
    try:
        yield endpoint
    finally:
        restore = {"stepfunctions": {"execute_state_machine": False}, **before}
        httpx.post(f"{endpoint}/moto-api/config", json=restore, timeout=10).raise_for_status()
        httpx.post(f"{endpoint}/moto-api/reset", timeout=10).raise_for_status()
        server.stop()


def aws_client(endpoint: str, service: str, region: str = REGION) -> Any:
    make: Any = boto3.client  # any service name, so not the typed overloads
    return make(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
