"""Collectors: telemetry and state into the audit store.

What ``sagawatch up`` starts and the dashboard reads:

- ``runner``: ``Collector(settings, stack_info).run_once() -> PassReport`` (one pass over every kind)
  and ``CollectorLoop(collector, interval_s)`` with ``start()``/``stop()`` (passes never overlap).
- ``logs``: ``/aws/lambda/*`` CloudWatch Logs read forward per stream (``collect``), parsed into
  rows (``parse``, pure; ``emf`` checks EMF shapes) and stored page by page with the stream's
  position in one transaction (``store``): no gap, no duplicate, whatever dies when.
- ``queues``: SQS depth, in-flight, oldest age, queue -> DLQ relation, peeked DLQ messages (masked).
- ``sagas``: Aurora's saga tables and Step Functions executions as one view, stuck flag per
  ``sagawatch.contracts.is_stuck`` (``model`` is pure; ``aurora``, ``stepfunctions`` read; ``store`` writes).
- ``jobs``: the queue worker's jobs (DynamoDB) by job id: status, retries, last error (masked).
- ``metrics``: the app's EMF metrics and the alarm-relevant AWS metrics, per minute.
- ``transaction``: everything about one correlation id (``query`` fetches, ``view`` orders, pure;
  ``render`` draws the terminal waterfall for ``sagawatch trace``).
- ``partitions`` and ``retention``: day partitions made ahead of rows, dropped past their days;
  batched deletes elsewhere. ``settings``: ``SAGAWATCH_RETENTION_*`` and ``SAGAWATCH_COLLECT_*``.
- ``errors``: ``collector_errors`` rows: bad input and unreachable sources never stop a pass;
  ``storable`` replaces the characters PostgreSQL refuses (NUL, lone surrogates) in collected text.
- ``otlp``: the OTLP/HTTP receiver writing spans.
- ``schema``: the audit store's migrations (package ``collectors.schema``).
"""
