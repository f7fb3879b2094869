"""Metric filters: log events -> per-minute metric data, as CloudWatch Logs publishes it.

The definition is ``PutMetricFilter``'s parameters (``filterName``, ``filterPattern``,
``metricTransformations`` ...), so it deploys unchanged. Rules from "Filter pattern syntax
for metric filters" and "Configuring metric values for a metric filter":

* a matching event adds ``metricValue``: a number, ``$.field`` of a JSON event, or ``$name``
  of a space-delimited pattern (an event whose value is not a number adds nothing);
* ``defaultValue`` is reported for events that do not match ("the Default Value of 0 is used
  for both log records"); with dimensions there is no default value;
* up to three dimensions, each from ``$.field`` or ``$name``;
* values are aggregated and reported every minute.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from alarms.evaluate.evaluator import Datapoint
from alarms.evaluate.model import StandardUnit
from alarms.patterns import FilterPattern, Match, PatternSyntaxError, compile_pattern
from alarms.patterns.ast import Selector
from alarms.patterns.json_parser import parse_selector
from alarms.patterns.json_select import decode_event, scalar_number, scalar_text, select
from alarms.patterns.scanner import Scanner
from alarms.patterns.values import NUMBER_RE

_FIELD_REF = re.compile(r"\$[A-Za-z0-9_]+")


def _parse_selector(text: str) -> Selector:
    sc = Scanner(text, text)
    selector = parse_selector(sc)
    if not sc.at_end():
        sc.fail("unexpected text after the selector")
    return selector


def _check_reference(value: str, what: str) -> str:
    if value.startswith("$."):
        try:
            _parse_selector(value)
        except PatternSyntaxError as exc:
            raise ValueError(f"{what} {value!r} is not a valid JSON selector: {exc.message}") from None
    elif not _FIELD_REF.fullmatch(value):
        raise ValueError(f"{what} {value!r} must be $.field (JSON) or $name (a space-delimited field)")
    return value


class MetricTransformation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    metricName: str = Field(min_length=1, max_length=255)
    metricNamespace: str = Field(min_length=1, max_length=255)
    metricValue: str = Field(min_length=1, max_length=100)
    defaultValue: float | None = None
    dimensions: dict[str, str] = Field(default_factory=dict)
    unit: StandardUnit | None = None

    @field_validator("metricValue")
    @classmethod
    def _value(cls, value: str) -> str:
        return value if NUMBER_RE.fullmatch(value) else _check_reference(value, "metricValue")

    @field_validator("dimensions")
    @classmethod
    def _dimensions(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > 3:
            raise ValueError(f"at most 3 dimensions are allowed, got {len(value)}")
        for name, ref in value.items():
            _check_reference(ref, f"dimension {name!r}")
        return value

    @model_validator(mode="after")
    def _default_without_dimensions(self) -> MetricTransformation:
        if self.dimensions and self.defaultValue is not None:
            raise ValueError("defaultValue cannot be used together with dimensions")
        return self


class MetricFilterDefinition(BaseModel):
    """A metric filter: the ``PutMetricFilter`` request."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    logGroupName: str = Field(min_length=1, max_length=512)
    filterName: str = Field(min_length=1, max_length=512, pattern=r"^[^:*]*$")
    filterPattern: str = Field(max_length=1024)
    metricTransformations: list[MetricTransformation] = Field(min_length=1, max_length=1)

    @field_validator("filterPattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        compile_pattern(value)  # PatternSyntaxError is a ValueError: reported on filterPattern
        return value

    @property
    def pattern(self) -> FilterPattern:
        return compile_pattern(self.filterPattern)

    @property
    def transformation(self) -> MetricTransformation:
        return self.metricTransformations[0]

    def to_put_metric_filter(self) -> dict[str, Any]:
        """The keyword arguments for boto3's ``logs.put_metric_filter`` (no empty ``dimensions``)."""
        params = self.model_dump(mode="json", exclude_none=True)
        for tf in params["metricTransformations"]:
            if not tf["dimensions"]:
                del tf["dimensions"]
        return params


class LogEvent(BaseModel):
    """One log event: ``timestamp`` in milliseconds since the epoch, as CloudWatch Logs keeps it."""

    model_config = ConfigDict(frozen=True)

    timestamp: int = Field(ge=0)
    message: str


@dataclass(frozen=True)
class MetricDatum:
    """One minute of one metric (one dimension combination): the values published in it."""

    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    timestamp: datetime
    values: tuple[float, ...]
    unit: str | None = None

    @property
    def sample_count(self) -> int:
        return len(self.values)

    @property
    def sum(self) -> float:
        return math.fsum(self.values)

    @property
    def minimum(self) -> float:
        return min(self.values)

    @property
    def maximum(self) -> float:
        return max(self.values)

    def datapoints(self) -> list[Datapoint]:
        """The raw values, for ``evaluate_alarm``."""
        return [Datapoint(timestamp=self.timestamp, value=v) for v in self.values]


class _Resolver:
    """Reads ``$.field`` / ``$name`` references out of a matched event."""

    def __init__(self, refs: Iterable[str]) -> None:
        self.selectors = {r: _parse_selector(r) for r in refs if r.startswith("$.")}

    def text(self, ref: str, match: Match, message: str) -> str | None:
        if ref in self.selectors:
            doc = match.document if match.document is not None else decode_event(message)
            found = select(self.selectors[ref], doc) if doc is not None else []
            return scalar_text(found[0]) if found else None
        return match.extracted.get(ref)

    def number(self, ref: str, match: Match, message: str) -> float | None:
        text = self.text(ref, match, message)
        return scalar_number(text) if text is not None else None


def apply_metric_filter(definition: MetricFilterDefinition, events: Iterable[LogEvent]) -> list[MetricDatum]:
    """The metric data this filter publishes for these events, one datum per minute and dimensions."""
    pattern, tf = definition.pattern, definition.transformation
    literal = float(tf.metricValue) if NUMBER_RE.fullmatch(tf.metricValue) else None
    resolver = _Resolver([tf.metricValue, *tf.dimensions.values()])
    buckets: dict[tuple[datetime, tuple[tuple[str, str], ...]], list[float]] = defaultdict(list)
    for event in events:
        minute = datetime.fromtimestamp(event.timestamp // 60_000 * 60, UTC)
        match = pattern.match(event.message)
        if match is None:
            if tf.defaultValue is not None:
                buckets[(minute, ())].append(tf.defaultValue)
            continue
        value = literal if literal is not None else resolver.number(tf.metricValue, match, event.message)
        dims = [
            (name, resolver.text(ref, match, event.message)) for name, ref in sorted(tf.dimensions.items())
        ]
        if value is None or any(v is None or v == "" for _, v in dims):
            continue  # CloudWatch publishes nothing for an event without a numeric value or a dimension
        buckets[(minute, tuple((n, str(v)) for n, v in dims))].append(value)
    return [
        MetricDatum(tf.metricNamespace, tf.metricName, dims, minute, tuple(values), tf.unit)
        for (minute, dims), values in sorted(buckets.items())
    ]
