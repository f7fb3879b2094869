"""Collectors: telemetry and state into the audit store."""
