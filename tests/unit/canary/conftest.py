"""A moto server (in this process, over HTTP on loopback) for the canary's edge and CLI tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sagawatch.stack.aws import MotoServer
from tests.unit.canary.aws_world import Aws


@pytest.fixture(scope="module")
def aws() -> Iterator[Aws]:
    moto = MotoServer("127.0.0.1", 0)
    endpoint = moto.start()
    moto.reset()
    try:
        yield Aws(endpoint)
    finally:
        moto.reset()
        moto.stop()
