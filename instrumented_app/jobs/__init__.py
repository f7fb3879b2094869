"""The queue worker pattern: ``POST /api/async`` -> 202 + job id -> SQS -> worker Lambda -> SaaS.

- ``requests``: what a client may ask for, one model per kind (``sync_member``, ``create_customer``)
- ``model``: the stored job, its queued message, and the failure rule (pure)
- ``store``: jobs in DynamoDB, every change a conditional update
- ``enqueue``: accept a job (store, then queue), idempotent by ``Idempotency-Key``
- ``worker``: one SQS record runs one job; partial batch failures; ``backoff``: when a failure retries
- ``actions``: what each kind does, through ``membership`` (the member API) and ``sagas`` (the
  customer saga)
- ``api``: the two HTTP routes; ``config``: the function's environment
- ``redrive`` / ``cli``: the DLQ seen and sent back (``sagawatch jobs ...``)
"""
