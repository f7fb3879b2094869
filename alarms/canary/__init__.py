"""Canary analysis and control for a function deployed as two versions behind a weighted alias.

* ``alarms.canary.judge`` -- the pure core: Kayenta-style judgement of canary (v2) samples against
  baseline (v1) samples per metric (``judge``, ``classify_metric``, ``JudgeConfig``, ``CanaryResult``).
* ``alarms.canary.metrics`` -- the data edge: per-version samples from CloudWatch metrics or from
  Lambda's REPORT lines in CloudWatch Logs (``SampleSource`` and its two implementations);
  ``alarms.canary.report_lines`` reads those lines (pure).
* ``alarms.canary.analysis`` -- ``analyse``: alias + sources + judge -> ``CanaryReport`` (CLI, dashboard).
* ``alarms.canary.control`` -- the alias: read it, set the canary weight, promote, roll back; each
  change returns an audit record.
* ``alarms.canary.publish`` -- the canary error-rate delta that the standard canary alarm watches.
* ``alarms.canary.cli`` -- ``sagawatch canary status | judge | set | promote | rollback``.
"""
