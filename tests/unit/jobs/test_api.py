"""The two routes through Powertools' REST resolver, on a real table and queue (moto over HTTP)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from instrumented_app.jobs.api import JobsService, register_routes
from instrumented_app.jobs.enqueue import Enqueuer, SqsJobQueue, idempotency_config, idempotent_enqueue
from instrumented_app.jobs.redrive import JobsQueues
from instrumented_app.jobs.store import DynamoJobStore
from tests.unit.jobs.helpers import Aws, unique

GOOD = {"kind": "sync_member", "cust_no": "C0001", "payload": {"full_name": "Hanako Yamada"}}


class Context:
    function_name = "sw-async-api"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:sw-async-api"
    aws_request_id = "req-1"
    memory_limit_in_mb = 256

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def proxy_event(
    method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """A REST API proxy event as API Gateway (or the local API front) hands it to the function."""
    text = body if isinstance(body, str) or body is None else json.dumps(body)
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": headers or {},
        "multiValueHeaders": {name: [value] for name, value in (headers or {}).items()},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": None,
        "stageVariables": None,
        "requestContext": {"stage": "v1", "path": f"/v1{path}", "httpMethod": method, "requestId": "req-1"},
        "body": text,
        "isBase64Encoded": False,
    }


class Api:
    def __init__(self, aws: Aws, store: DynamoJobStore, queues: JobsQueues) -> None:
        table = unique("idem")
        aws.dynamodb.create_table(
            TableName=table,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        )
        enqueuer = Enqueuer(store=store, queue=SqsJobQueue(queues.source_url, aws.sqs))
        idempotency = idempotency_config()
        persistence = DynamoDBPersistenceLayer(table_name=table, boto3_client=aws.dynamodb)
        self.service = JobsService(
            store=store,
            enqueuer=enqueuer,
            keyed_enqueue=idempotent_enqueue(enqueuer, persistence, idempotency),
            idempotency=idempotency,
        )
        self.app = APIGatewayRestResolver()
        register_routes(self.app, lambda: self.service)
        self.aws, self.queues = aws, queues

    def call(
        self, method: str, path: str, body: Any = None, **headers: str
    ) -> tuple[int, dict[str, Any], Any]:
        context: Any = Context()
        self.service.begin_invocation(context)
        response = self.app.resolve(proxy_event(method, path, body, headers), context)
        answered = {name: values[-1] for name, values in (response.get("multiValueHeaders") or {}).items()}
        answered.update(response.get("headers") or {})
        return response["statusCode"], answered, json.loads(response["body"])

    def queued(self) -> int:
        attributes = self.aws.sqs.get_queue_attributes(
            QueueUrl=self.queues.source_url, AttributeNames=["ApproximateNumberOfMessages"]
        )
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


@pytest.fixture
def api(aws: Aws, store: DynamoJobStore, queues: JobsQueues) -> Api:
    return Api(aws, store, queues)


def test_a_job_is_accepted_with_202_location_and_its_status_url_answers(api: Api) -> None:
    status, headers, body = api.call("POST", "/api/async", GOOD)
    assert status == 202
    assert body["status"] == "PENDING"
    assert body["status_url"] == f"/api/async/{body['job_id']}"
    assert headers["Location"] == body["status_url"]
    assert api.queued() == 1
    status, _, job = api.call("GET", body["status_url"])
    assert status == 200
    assert (job["job_id"], job["status"], job["retry_count"], job["last_error"]) == (
        body["job_id"],
        "PENDING",
        0,
        None,
    )
    assert "payload" not in job


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**GOOD, "cust_no": "has space"}, "cust_no"),
        ({k: v for k, v in GOOD.items() if k != "cust_no"}, "cust_no"),
        ({**GOOD, "payload": {}}, "payload.full_name"),
        ({**GOOD, "kind": "nope"}, "kind"),
        ("{broken", "body"),
    ],
)
def test_a_bad_body_gets_400_naming_the_field_and_queues_nothing(api: Api, body: Any, field: str) -> None:
    status, _, answer = api.call("POST", "/api/async", body)
    assert status == 400
    assert field in [error["field"] for error in answer["errors"]]
    assert "has space" not in json.dumps(answer)  # the value itself is never echoed
    assert api.queued() == 0


def test_a_repeated_idempotency_key_gives_the_same_job_and_one_message(api: Api) -> None:
    _, _, first = api.call("POST", "/api/async", GOOD, **{"Idempotency-Key": "k-1"})
    status, _, again = api.call("POST", "/api/async", GOOD, **{"idempotency-key": "k-1"})
    assert status == 202
    assert again["job_id"] == first["job_id"]
    assert api.queued() == 1
    other = {**GOOD, "cust_no": "C0002"}
    status, _, refused = api.call("POST", "/api/async", other, **{"Idempotency-Key": "k-1"})
    assert status == 422
    assert "Idempotency-Key" in refused["message"]
    assert api.queued() == 1


def test_an_unknown_job_is_a_404_with_a_body(api: Api) -> None:
    status, _, body = api.call("GET", "/api/async/job_nope")
    assert status == 404
    assert body == {"message": "job job_nope does not exist"}
