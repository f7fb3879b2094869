"""Alarms: metric filters and alarms as code, with a local evaluator."""
