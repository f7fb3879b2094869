"""Where the items functions find their tables: the environment the template sets."""

from __future__ import annotations

from functools import cached_property
from typing import Any

import boto3
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from sagawatch.aws import aws_session


class ItemsConfig(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    items_table: str = Field(description="DynamoDB table of items (partition key item_id, GSI by-category)")
    items_read_model_table: str = Field(description="the CQRS read model: per-category summaries and rows")
    aws_region: str = "us-east-1"
    aws_endpoint_url: str | None = Field(default=None, description="moto's server locally; unset on AWS")

    @cached_property
    def session(self) -> boto3.session.Session:
        return aws_session(self.aws_region, self.aws_endpoint_url)

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.aws_endpoint_url)  # type: ignore[call-overload]
