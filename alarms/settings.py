"""Settings of the standard alarm set and the local evaluator, read from ``SAGAWATCH_ALARMS_*``.

Periods and thresholds live here, not in the definitions, so an operator tunes them without code
and a test sets a short period (``SAGAWATCH_ALARMS_PERIOD_S=10``) to see a transition in seconds.
"""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _check_period(value: int) -> int:
    if value not in (10, 20, 30) and value % 60 != 0:
        raise ValueError("must be 10, 20, 30 or a multiple of 60 seconds (CloudWatch's alarm periods)")
    return value


class AlarmSettings(BaseSettings):
    """Everything the standard set and the local evaluation loop let an operator change."""

    model_config = SettingsConfigDict(env_prefix="SAGAWATCH_ALARMS_", extra="ignore")

    name_prefix: str = Field(default="sagawatch", min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    period_s: int = Field(default=60, description="Period of every alarm of the standard set.")
    evaluation_periods: int = Field(default=1, ge=1, le=100, description="N of 'M out of N'.")
    datapoints_to_alarm: int | None = Field(default=None, ge=1, description="M; unset means N.")
    error_lines_threshold: float = Field(default=0, ge=0, description="ERROR lines per period above which.")
    dlq_depth_threshold: float = Field(default=0, ge=0, description="Visible DLQ messages above which.")
    dlq_age_threshold_s: float = Field(default=300, gt=0, description="Oldest DLQ message age from which.")
    stuck_sagas_threshold: float = Field(default=0, ge=0)
    drift_findings_threshold: float = Field(default=0, ge=0)
    canary_error_rate_delta_threshold: float = Field(default=0.05, ge=0, le=1)
    api_5xx_rate_threshold: float = Field(default=0.05, ge=0, le=1, description="Share of 5xx answers.")
    topic_name: str = Field(
        default="sagawatch-alarms",
        pattern=r"^[A-Za-z0-9_-]{1,256}$",
        description="SNS topic of the alarm actions (created locally; on AWS give topic_arn).",
    )
    topic_arn: str | None = Field(default=None, description="An existing topic for the actions on AWS.")
    interval_s: float = Field(default=10.0, gt=0, le=3600, description="Seconds between local evaluations.")
    inventory_interval_s: float = Field(
        default=60.0, ge=0, le=86_400, description="Seconds between inventory reads of the local loop."
    )
    log_metric_resolution_s: int = Field(
        default=60,
        description=(
            "Seconds per datum of log-derived metrics. 60 is what CloudWatch Logs publishes; "
            "a test with a 10 s period sets 10 (published as high-resolution metrics)."
        ),
    )
    max_log_pages: int = Field(
        default=50, ge=1, le=10_000, description="get_log_events pages per stream, per pass."
    )

    @field_validator("period_s")
    @classmethod
    def _period(cls, value: int) -> int:
        return _check_period(value)

    @field_validator("log_metric_resolution_s")
    @classmethod
    def _resolution(cls, value: int) -> int:
        if value not in (1, 5, 10, 20, 30, 60):
            raise ValueError("must be 1, 5, 10, 20, 30 or 60 seconds (a divisor of a minute)")
        return value

    @property
    def datapoints(self) -> int:
        return self.datapoints_to_alarm or self.evaluation_periods
