"""Collector settings: retention per kind of data, and the bounds of one pass.

Read from ``SAGAWATCH_RETENTION_*`` (days) and ``SAGAWATCH_COLLECT_*`` (bounds), apart from
``sagawatch.settings.Settings`` because only the collectors need them.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class RetentionSettings(BaseSettings):
    """Days to keep each kind of collected data; older day partitions are dropped, older rows deleted."""

    model_config = SettingsConfigDict(env_prefix="SAGAWATCH_RETENTION_", extra="ignore")

    logs_days: int = Field(default=14, ge=1, description="log_lines and invocations")
    queues_days: int = Field(default=7, ge=1, description="queue_samples")
    metrics_days: int = Field(default=30, ge=1, description="metric_points")
    spans_days: int = Field(default=7, ge=1, description="spans (from the OTLP receiver)")
    errors_days: int = Field(default=14, ge=1, description="collector_errors")
    sagas_days: int = Field(default=90, ge=1, description="terminal sagas and their steps")
    jobs_days: int = Field(default=14, ge=1, description="jobs not updated for this long")
    dlq_days: int = Field(default=14, ge=1, description="DLQ messages not seen for this long")
    check_interval_s: float = Field(default=600.0, gt=0, description="How often a loop enforces retention")
    delete_batch: int = Field(default=5000, ge=1, le=100_000, description="Rows per batched delete")


class PassLimits(BaseSettings):
    """Bounds that keep one pass short whatever the backlog; the next pass continues."""

    model_config = SettingsConfigDict(env_prefix="SAGAWATCH_COLLECT_", extra="ignore")

    log_pages_per_stream: int = Field(default=20, ge=1, description="get_log_events pages per stream")
    log_workers: int = Field(default=4, ge=1, le=32, description="streams read at once, one connection each")
    log_page_size: int = Field(default=10_000, ge=1, le=10_000, description="events per page (API max)")
    dlq_peek_messages: int = Field(default=10, ge=0, le=10, description="messages per peek (0: never peek)")
    peek_interval_s: float = Field(
        default=300.0, ge=0, description="re-peek a queue whose depth is unchanged"
    )
    executions_per_machine: int = Field(default=200, ge=1, description="recent executions listed")
    metrics_window_s: int = Field(default=900, ge=60, description="how far back metrics are re-read")
    saga_batch: int = Field(default=20_000, ge=100, description="changed Aurora sagas read per pass")
    saga_overlap_s: float = Field(default=300.0, ge=0, description="re-read window behind the watermark")
    jobs_table: str = Field(
        default="sw-async-jobs", min_length=3, max_length=255, description="the queue worker's DynamoDB table"
    )
    jobs_overlap_s: float = Field(default=300.0, ge=0, description="re-read window behind the jobs watermark")
    jobs_interval_s: float = Field(
        default=30.0, ge=0, description="one scan of the jobs table at most this often (a scan reads it all)"
    )
