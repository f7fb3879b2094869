"""A second delivery of a job's queue message, as SQS's at-least-once delivery sometimes makes one.

The copy is built from the job as the API stored it (``Job.message()``, the
body the API queued) and sent with the same correlation id attribute through
the app's own ``SqsJobQueue``, so the worker cannot tell it from the first.
"""

from __future__ import annotations

from typing import Any

from instrumented_app.jobs.enqueue import SqsJobQueue
from instrumented_app.jobs.store import DynamoJobStore

#: The names ``instrumented_app/template.yaml`` gives the jobs queue and table.
JOBS_QUEUE = "sw-async-jobs"
JOBS_TABLE = "sw-async-jobs"


class QueueDuplicator:
    """Callable with a job id: queues that job's message once more. Clients made once, shared by threads."""

    def __init__(self, sqs: Any, dynamodb: Any, queue: str = JOBS_QUEUE, table: str = JOBS_TABLE) -> None:
        self._queue = SqsJobQueue(sqs.get_queue_url(QueueName=queue)["QueueUrl"], sqs)
        self._store = DynamoJobStore(table, dynamodb)
        self.sent = 0

    def __call__(self, job_id: str) -> None:
        job = self._store.get(job_id)
        if job is None:
            raise LookupError(f"job {job_id} does not exist, so it has no message to duplicate")
        self._queue.send(job.message(), job.correlation_id)
        self.sent += 1
