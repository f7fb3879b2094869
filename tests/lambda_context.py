"""A stand-in for Lambda's Python context object, for tests that call a handler directly."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class FakeContext:
    """The attributes of Lambda's Python context object that handlers and Powertools read."""

    function_name: str = "orders-api"
    function_version: str = "3"
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:orders-api:live"
    memory_limit_in_mb: int = 256
    remaining_time_in_millis: int = 3000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_time_in_millis
