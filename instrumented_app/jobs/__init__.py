"""The queue worker pattern: ``POST /api/async`` -> 202 + job id -> SQS -> worker Lambda -> SaaS.

- ``model``: the job, its request and message, and the status rules (pure)
- ``store``: jobs in DynamoDB, every change a conditional update
- ``enqueue``: accept a job (store, then queue), idempotent by ``Idempotency-Key``
- ``worker``: one SQS record runs one job; partial batch failures
- ``actions`` / ``membership``: what each job kind does, and the SaaS it calls
- ``api``: the two HTTP routes; ``config``: the function's environment
- ``redrive`` / ``cli``: the DLQ seen and sent back (``sagawatch jobs ...``)
"""
