"""boto3 clients for one endpoint, made once each, with bounded retries and timeouts."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_logs import CloudWatchLogsClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_stepfunctions import SFNClient

_SESSION_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _shared_session() -> boto3.session.Session:
    """One session for every ``Clients``: botocore parses its service models once per session."""
    return boto3.session.Session()


_CONFIG = Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"})


@dataclass
class Clients:
    """Clients for ``endpoint_url``; moto accepts any credentials, so absent ones become "testing"."""

    endpoint_url: str
    region: str
    _made: dict[str, Any] = field(default_factory=dict, repr=False)

    def client(self, service: str) -> Any:
        if service not in self._made:
            session = _shared_session()
            credentials: dict[str, str] = {}
            if session.get_credentials() is None:
                credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
            with _SESSION_LOCK:
                make: Any = session.client  # one call for every service name, so not the typed overloads
                self._made[service] = make(
                    service,
                    region_name=self.region,
                    endpoint_url=self.endpoint_url,
                    config=_CONFIG,
                    **credentials,
                )
        return self._made[service]

    @property
    def cloudformation(self) -> CloudFormationClient:
        return self.client("cloudformation")

    @property
    def lambda_(self) -> LambdaClient:
        return self.client("lambda")

    @property
    def sqs(self) -> SQSClient:
        return self.client("sqs")

    @property
    def sns(self) -> SNSClient:
        return self.client("sns")

    @property
    def dynamodb(self) -> DynamoDBClient:
        return self.client("dynamodb")

    @property
    def events(self) -> EventBridgeClient:
        return self.client("events")

    @property
    def stepfunctions(self) -> SFNClient:
        return self.client("stepfunctions")

    @property
    def logs(self) -> CloudWatchLogsClient:
        return self.client("logs")

    @property
    def cloudwatch(self) -> CloudWatchClient:
        return self.client("cloudwatch")

    @property
    def s3(self) -> S3Client:
        return self.client("s3")

    @property
    def scheduler(self) -> Any:
        return self.client("scheduler")

    @property
    def iam(self) -> Any:
        return self.client("iam")

    @property
    def sts(self) -> Any:
        return self.client("sts")
