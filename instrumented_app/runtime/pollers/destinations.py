"""On-failure destinations: where Lambda reports a stream batch it discarded (an SQS queue or SNS topic)."""

from __future__ import annotations

import json
from typing import Any

import boto3

from instrumented_app.runtime.pollers.base import log


class FailureDestinations:
    """Sends failure records to the SQS queues and SNS topics that mappings name, creating clients lazily."""

    def __init__(self, session: boto3.session.Session, aws_endpoint: str) -> None:
        self._session = session
        self._endpoint = aws_endpoint
        self._clients: dict[tuple[str, str], Any] = {}

    def _client(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = self._session.client(
                service, endpoint_url=self._endpoint, region_name=region
            )  # type: ignore[call-overload]
        return self._clients[key]

    def send(self, destination_arn: str, record: dict[str, Any]) -> None:
        """Deliver one failure record; a destination that cannot be reached is logged, never raised."""
        _, _, service, region, account, name = destination_arn.split(":", 5)
        body = json.dumps(record)
        try:
            if service == "sqs":
                sqs = self._client("sqs", region)
                url = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
                sqs.send_message(QueueUrl=url, MessageBody=body)
            else:
                self._client("sns", region).publish(TopicArn=destination_arn, Message=body)
        except Exception:
            log.exception("could not send a failure record to %s", destination_arn)
