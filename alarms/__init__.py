"""Alarms: metric filters and alarms as code, with a local evaluator.

Where things are:

* ``alarms.patterns`` -- CloudWatch Logs filter patterns: ``compile_pattern(text)`` gives a
  ``FilterPattern`` with ``matches(line)`` / ``extract(line)``; bad patterns raise
  ``PatternSyntaxError`` with a position. Parser (``parser.py`` and the ``*_parser.py`` per
  pattern family) -> AST (``ast.py``) -> matcher closures (``compiler.py``, ``delimited.py``).
* ``alarms.evaluate`` -- metric filters (``apply_metric_filter``), metric alarms
  (``evaluate_alarm``; the missing-data rules in ``missing_data.py``), composite alarms and
  replays over time. Definitions are the AWS request shapes, so they deploy unchanged.
* ``alarms.testmetric`` -- ``TestMetricFilter``'s response, locally.
* ``alarms.cli`` -- ``sagawatch alarms test-pattern | simulate | simulate-composite``.
"""
