"""The shape of an Embedded Metric Format blob, checked with pydantic so that errors name the field.

The collectors do not turn EMF into metrics (CloudWatch does, and the runtime does locally): they
only record a blob that CloudWatch would drop, so an operator learns why a metric is missing.
Reference: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
"""

from __future__ import annotations

import math
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

MAX_DIMENSIONS = 30
MAX_VALUES_PER_METRIC = 100


class EmfShapeError(ValueError):
    """An EMF blob CloudWatch would reject; the message names the field and the problem."""


class _Metric(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    name: str = Field(alias="Name", min_length=1)
    unit: str = Field(default="None", alias="Unit")
    storage_resolution: int = Field(default=60, alias="StorageResolution")

    @field_validator("storage_resolution")
    @classmethod
    def _resolution(cls, value: int) -> int:
        if value not in (1, 60):
            raise ValueError("must be 1 or 60")
        return value


class _Directive(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    namespace: str = Field(alias="Namespace", min_length=1)
    dimensions: list[list[str]] = Field(alias="Dimensions")
    metrics: list[_Metric] = Field(alias="Metrics")

    @field_validator("dimensions")
    @classmethod
    def _dimension_count(cls, value: list[list[str]]) -> list[list[str]]:
        for dimension_set in value:
            if len(dimension_set) > MAX_DIMENSIONS:
                raise ValueError(f"{len(dimension_set)} dimensions, over the limit of {MAX_DIMENSIONS}")
        return value


class _Metadata(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True, strict=True)

    timestamp: int = Field(alias="Timestamp")
    cloudwatch_metrics: list[_Directive] = Field(alias="CloudWatchMetrics")


def check_emf(blob: dict[str, Any]) -> None:
    """Raise ``EmfShapeError`` unless ``blob`` (a parsed JSON object with ``_aws``) is valid EMF."""
    try:
        meta = _Metadata.model_validate(blob.get("_aws"))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in ("_aws", *first["loc"]))
        raise EmfShapeError(f"{where}: {first['msg']}") from None
    for directive in meta.cloudwatch_metrics:
        for dimension_set in directive.dimensions:
            for name in dimension_set:
                value = blob.get(name)
                if not isinstance(value, str) or not value:
                    raise EmfShapeError(f"{name}: dimension value missing or not a non-empty string")
        for metric in directive.metrics:
            _check_values(blob, metric.name)


def _check_values(blob: dict[str, Any], name: str) -> None:
    if name not in blob:
        raise EmfShapeError(f"{name}: metric value missing")
    raw = blob[name]
    items = raw if isinstance(raw, list) else [raw]
    if not items or len(items) > MAX_VALUES_PER_METRIC:
        raise EmfShapeError(f"{name}: expected 1 to {MAX_VALUES_PER_METRIC} values, got {len(items)}")
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int | float) or not math.isfinite(item):
            raise EmfShapeError(f"{name}: value {item!r} is not a finite number")
