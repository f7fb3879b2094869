"""Metric filters and alarms evaluated as CloudWatch evaluates them, as pure functions."""
