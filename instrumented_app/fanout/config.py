"""Where the fan-out, routing and thumbnail functions find their resources: the template's environment.

Each function is given only what it uses, so every value is optional here and
``require`` names the missing variable when a function reaches for it.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import boto3
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from sagawatch.aws import aws_session


class FanoutConfig(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    order_events_topic_arn: str | None = Field(default=None, description="SNS topic of order events")
    order_events_bus: str = Field(default="default", description="EventBridge bus order events go to")
    order_effects_table: str | None = Field(default=None, description="what each consumer did, per order")
    thumbnails_bucket: str | None = Field(default=None, description="where thumbnails are written")
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
