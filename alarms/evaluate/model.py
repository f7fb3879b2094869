"""Alarm definitions, spelled as ``PutMetricAlarm``'s parameters so they deploy unchanged.

``AlarmDefinition.model_validate(params)`` accepts exactly what you would pass to
``cloudwatch.put_metric_alarm(**params)``; ``to_put_metric_alarm()`` gives it back. Unknown keys
are rejected (a misspelt ``Threshhold`` must not silently become "no threshold").
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class AlarmStateValue(StrEnum):
    OK = "OK"
    ALARM = "ALARM"
    INSUFFICIENT_DATA = "INSUFFICIENT_DATA"


class Comparison(StrEnum):
    GREATER_THAN_OR_EQUAL = "GreaterThanOrEqualToThreshold"
    GREATER_THAN = "GreaterThanThreshold"
    LESS_THAN = "LessThanThreshold"
    LESS_THAN_OR_EQUAL = "LessThanOrEqualToThreshold"
    # Anomaly-detection operators: they compare against a band (ThresholdMetricId), not a number.
    OUTSIDE_BAND = "LessThanLowerOrGreaterThanUpperThreshold"
    BELOW_BAND = "LessThanLowerThreshold"
    ABOVE_BAND = "GreaterThanUpperThreshold"


class MissingData(StrEnum):
    MISSING = "missing"
    NOT_BREACHING = "notBreaching"
    BREACHING = "breaching"
    IGNORE = "ignore"


class SimpleStatistic(StrEnum):
    SAMPLE_COUNT = "SampleCount"
    AVERAGE = "Average"
    SUM = "Sum"
    MINIMUM = "Minimum"
    MAXIMUM = "Maximum"


#: ``StandardUnit`` of the CloudWatch API (MetricDatum, PutMetricAlarm, metric transformations).
StandardUnit = Literal[
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes",
    "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second",
    "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second",
    "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
]  # fmt: skip

_PERCENTILE = re.compile(r"p(\d{1,2}(?:\.\d{1,10})?|100(?:\.0{1,10})?)")


class Dimension(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    Name: str = Field(min_length=1, max_length=255)
    Value: str = Field(min_length=1, max_length=1024)


class AlarmDefinition(BaseModel):
    """A metric alarm: the ``PutMetricAlarm`` request."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    AlarmName: str = Field(min_length=1, max_length=255)
    AlarmDescription: str | None = Field(default=None, max_length=1024)
    ActionsEnabled: bool = True
    OKActions: list[str] = Field(default_factory=list, max_length=5)
    AlarmActions: list[str] = Field(default_factory=list, max_length=5)
    InsufficientDataActions: list[str] = Field(default_factory=list, max_length=5)
    MetricName: str | None = Field(default=None, min_length=1, max_length=255)
    Namespace: str | None = Field(default=None, min_length=1, max_length=255)
    Statistic: SimpleStatistic | None = None
    ExtendedStatistic: str | None = None
    Dimensions: list[Dimension] = Field(default_factory=list, max_length=30)
    Period: int = Field(ge=10)
    Unit: StandardUnit | None = None
    EvaluationPeriods: int = Field(ge=1)
    DatapointsToAlarm: int | None = Field(default=None, ge=1)
    Threshold: float | None = None
    ComparisonOperator: Comparison
    TreatMissingData: MissingData = MissingData.MISSING
    EvaluateLowSampleCountPercentile: str | None = None
    Metrics: list[dict[str, Any]] | None = None
    Tags: list[dict[str, str]] | None = None
    ThresholdMetricId: str | None = None

    @field_validator("AlarmName")
    @classmethod
    def _ascii_name(cls, value: str) -> str:
        if not value.isascii():
            raise ValueError("alarm names must contain only ASCII characters")
        return value

    @field_validator("Period")
    @classmethod
    def _period(cls, value: int) -> int:
        if value not in (10, 20, 30) and value % 60 != 0:
            raise ValueError("Period must be 10, 20, 30 or a multiple of 60 seconds")
        return value

    @field_validator("ExtendedStatistic")
    @classmethod
    def _percentile(cls, value: str | None) -> str | None:
        if value is not None and not _PERCENTILE.fullmatch(value):
            raise ValueError("ExtendedStatistic must be a percentile p0 .. p100 such as p99 or p99.9")
        return value

    @field_validator("EvaluateLowSampleCountPercentile")
    @classmethod
    def _low_sample(cls, value: str | None) -> str | None:
        if value is not None and value not in ("evaluate", "ignore"):
            raise ValueError("EvaluateLowSampleCountPercentile must be 'evaluate' or 'ignore'")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> AlarmDefinition:
        if self.Metrics is None:
            if (self.Statistic is None) == (self.ExtendedStatistic is None):
                raise ValueError("give exactly one of Statistic and ExtendedStatistic")
            if self.MetricName is None or self.Namespace is None:
                raise ValueError("MetricName and Namespace are required (unless Metrics is given)")
        if self.DatapointsToAlarm is not None and self.DatapointsToAlarm > self.EvaluationPeriods:
            raise ValueError(
                f"DatapointsToAlarm ({self.DatapointsToAlarm}) cannot exceed EvaluationPeriods "
                f"({self.EvaluationPeriods})"
            )
        if self.ThresholdMetricId is None and self.Threshold is None:
            raise ValueError("Threshold is required (unless ThresholdMetricId names an anomaly band)")
        return self

    @property
    def datapoints_to_alarm(self) -> int:
        """M of "M out of N"; CloudWatch defaults it to EvaluationPeriods."""
        return self.DatapointsToAlarm or self.EvaluationPeriods

    @property
    def statistic_name(self) -> str:
        return str(self.Statistic or self.ExtendedStatistic)

    def to_put_metric_alarm(self) -> dict[str, Any]:
        """The keyword arguments for boto3's ``put_metric_alarm``, defaults left out."""
        return self.model_dump(mode="json", exclude_none=True, exclude_defaults=True) | {
            "AlarmName": self.AlarmName,
            "Period": self.Period,
            "EvaluationPeriods": self.EvaluationPeriods,
            "ComparisonOperator": self.ComparisonOperator.value,
        }
