"""Where the event-sourcing functions find their tables and queues: the environment the template sets.

Each function is given only what it uses, so each value is optional here and
``require`` names the missing variable when a function reaches for it.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import boto3
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from sagawatch.aws import aws_session


class EventsConfig(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    event_store_table: str | None = Field(default=None, description="the event store (aggregate_id, version)")
    account_views_table: str | None = Field(default=None, description="the query model")
    query_model_queue_url: str | None = Field(default=None, description="router -> query model consumer")
    service_b_queue_url: str | None = Field(default=None, description="router -> service B")
    service_b_inbox_table: str | None = Field(default=None, description="service B's record of events")
    aws_region: str = "us-east-1"
    aws_endpoint_url: str | None = Field(default=None, description="moto's server locally; unset on AWS")

    def require(self, name: str) -> str:
        value = getattr(self, name)
        if not value:
            raise RuntimeError(
                f"{name.upper()} is not set: the template gives this function no such resource"
            )
        return str(value)

    @cached_property
    def session(self) -> boto3.session.Session:
        return aws_session(self.aws_region, self.aws_endpoint_url)

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.aws_endpoint_url)  # type: ignore[call-overload]
