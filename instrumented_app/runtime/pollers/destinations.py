"""On-failure destinations: where Lambda reports a stream batch it discarded (an SQS queue or SNS topic)."""

from __future__ import annotations

import json
import threading
from typing import Any

import boto3

from instrumented_app.runtime.pollers.base import log


class FailureDestinations:
    """Sends failure records to the SQS queues and SNS topics that mappings name, creating clients lazily."""

    def __init__(self, session: boto3.session.Session, aws_endpoint: str) -> None:
        # A session of its own: clients are made here from poller threads, while the manager's
        # session makes the pollers' clients, and a boto3 session is not thread-safe.
        credentials = session.get_credentials()
        self._session = (
            boto3.session.Session(
                aws_access_key_id=credentials.access_key,
                aws_secret_access_key=credentials.secret_key,
                aws_session_token=credentials.token,
                region_name=session.region_name,
            )
            if credentials is not None
            else session
        )
        self._endpoint = aws_endpoint
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()  # the stream pollers share this object

    def _client(self, service: str, region: str) -> Any:
        key = (service, region)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self._session.client(  # type: ignore[call-overload]
                    service, endpoint_url=self._endpoint, region_name=region
                )
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
