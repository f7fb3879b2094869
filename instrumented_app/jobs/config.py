"""Where a jobs function finds its table, queue and SaaS: its environment, which the template sets."""

from __future__ import annotations

from functools import cached_property
from typing import Any

import boto3
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from sagawatch.aws import aws_session


class JobsConfig(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    jobs_table: str = Field(description="DynamoDB table of jobs (partition key job_id)")
    jobs_queue_url: str = Field(description="SQS queue the worker consumes")
    jobs_idempotency_table: str | None = Field(default=None, description="Powertools idempotency table")
    sagawatch_membership_url: str | None = Field(default=None, description="membership API base URL")
    database_url: str | None = Field(default=None, description="Aurora, for create_customer jobs' sagas")
    aws_region: str = "us-east-1"
    aws_endpoint_url: str | None = Field(default=None, description="moto's server locally; unset on AWS")

    @cached_property
    def session(self) -> boto3.session.Session:
        return aws_session(self.aws_region, self.aws_endpoint_url)

    def client(self, service: str) -> Any:
        return self.session.client(service, endpoint_url=self.aws_endpoint_url)  # type: ignore[call-overload]
