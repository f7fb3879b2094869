"""The canary judge: is v2 (the canary) worse than v1 (the baseline)? Pure functions over numbers.

It follows Netflix Kayenta's ``NetflixACAJudge`` (spinnaker/kayenta, ``kayenta-judge``):

* **Per metric** (Kayenta's ``MannWhitneyClassifier``): no data on either side -> ``NoData``;
  identical samples, or one single value on both sides -> ``Pass`` with ratio 1; otherwise a
  Mann-Whitney U test at 98 % confidence (Kayenta runs it with ``confLevel = 0.98``) and the
  effect size as Kayenta reports it, the ratio of the canary's mean to the baseline's. The metric
  is ``High`` only when the test says the canary is significantly higher *and* the ratio exceeds
  the metric's ``allowed_increase`` (Kayenta's ``effectSize.allowedIncrease``); ``Low`` likewise
  with ``allowed_decrease``; the metric's direction decides which of the two may be flagged
  (Kayenta's ``direction: increase | decrease | either``). Where Kayenta bounds the Hodges-Lehmann
  confidence interval by a fraction of the estimate, this judge uses the test's p-value (one-sided
  for a directional metric, as scipy offers it) and the ratio: the same two gates, significance
  and size, from one library call.
* **Score** (Kayenta's ``WeightedSumScorer``): the weight of passing metrics over the weight of the
  metrics that have data, times 100; ``NoData`` metrics are left out of both. A critical metric
  that is not ``Pass`` fails the whole canary (Kayenta scores it 0).
* **Verdict** (Kayenta's ``ThresholdScoreClassifier``): ``PASS`` at or above the pass threshold,
  ``MARGINAL`` at or above the marginal threshold, ``FAIL`` below.

Where this judge differs, and why: too few samples is a verdict of its own, ``NOT_ENOUGH_DATA``,
with the counts in the reasons, because at a 5 % canary weight the canary side is usually what is
short and an operator must be told to wait rather than shown a score; and Kayenta's IQR outlier
removal is not applied, because on per-invocation 0/1 error samples it removes every error.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, model_validator

#: Which way a change is bad. Kayenta calls these increase / decrease / either.
Direction = Literal["higher_is_worse", "lower_is_worse", "either"]


#: The Mann-Whitney alternative per direction: is the canary (first sample) greater, less, or either?
_ALTERNATIVE: dict[Direction, Literal["greater", "less", "two-sided"]] = {
    "higher_is_worse": "greater",
    "lower_is_worse": "less",
    "either": "two-sided",
}


class Classification(StrEnum):
    PASS = "Pass"
    HIGH = "High"
    LOW = "Low"
    NO_DATA = "NoData"


class Verdict(StrEnum):
    PASS = "PASS"
    MARGINAL = "MARGINAL"
    FAIL = "FAIL"
    NOT_ENOUGH_DATA = "NOT_ENOUGH_DATA"


class MetricConfig(BaseModel):
    """How one metric is judged (a Kayenta canary-config metric entry)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, description="e.g. error_rate, duration_ms, compensation_rate")
    direction: Direction = "higher_is_worse"
    allowed_increase: float = Field(
        default=1.1, ge=1.0, description="canary mean / baseline mean above this (and significant) is High"
    )
    allowed_decrease: float = Field(
        default=0.9, gt=0.0, le=1.0, description="canary mean / baseline mean below this is Low"
    )
    weight: float = Field(default=1.0, gt=0.0, description="share of the score")
    critical: bool = Field(default=False, description="a critical metric that is not Pass fails the canary")
    min_samples: int = Field(default=20, ge=3, description="per side; fewer gives NoData")


class JudgeConfig(BaseModel):
    """The metrics to judge and the score thresholds (Kayenta's canary config and score thresholds)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    metrics: tuple[MetricConfig, ...] = Field(min_length=1)
    pass_threshold: float = Field(default=95.0, ge=0.0, le=100.0)
    marginal_threshold: float = Field(default=75.0, ge=0.0, le=100.0)
    confidence: float = Field(default=0.98, gt=0.5, lt=1.0, description="of the Mann-Whitney U test")

    @model_validator(mode="after")
    def _consistent(self) -> JudgeConfig:
        if self.marginal_threshold > self.pass_threshold:
            raise ValueError(
                f"marginal_threshold: {self.marginal_threshold} is above pass_threshold {self.pass_threshold}"
            )
        names = [metric.name for metric in self.metrics]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"metrics: names must be unique, repeated: {', '.join(duplicates)}")
        return self

    def metric(self, name: str) -> MetricConfig:
        return next(metric for metric in self.metrics if metric.name == name)


class SideStats(BaseModel):
    """What one side (baseline or canary) of one metric looked like."""

    model_config = ConfigDict(frozen=True)

    samples: int
    dropped: int = Field(description="non-finite values left out (Kayenta's removeNaNs)")
    mean: float | None
    median: float | None


class MetricResult(BaseModel):
    model_config = ConfigDict(frozen=True, ser_json_inf_nan="strings")

    name: str
    classification: Classification
    reason: str
    p_value: float | None = Field(description="of the Mann-Whitney U test; None when it was not run")
    effect_size: float | None = Field(
        description="canary mean / baseline mean (Infinity when only the canary is non-zero)"
    )
    baseline: SideStats
    canary: SideStats
    weight: float
    critical: bool


class CanaryResult(BaseModel):
    """The judgement the CLI prints and the dashboard renders."""

    model_config = ConfigDict(frozen=True, ser_json_inf_nan="strings")

    verdict: Verdict
    score: float | None = Field(description="0..100; None when the verdict is NOT_ENOUGH_DATA")
    pass_threshold: float
    marginal_threshold: float
    metrics: tuple[MetricResult, ...]
    reasons: tuple[str, ...]


#: A side's samples, finite only and sorted: every statistic below is then independent of the order
#: the samples came in (a sorted array sums the same way whatever order it was built from).
Sorted = npt.NDArray[np.float64]


def _clean(values: Sequence[float], where: str) -> tuple[Sorted, int]:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: samples must be numbers ({exc})") from None
    if array.ndim != 1:
        raise ValueError(f"{where}: samples must be a flat list of numbers, got {array.ndim} dimensions")
    kept = array[np.isfinite(array)]
    return np.sort(kept), int(array.size - kept.size)


def _stats(values: Sorted, dropped: int) -> SideStats:
    if values.size == 0:
        return SideStats(samples=0, dropped=dropped, mean=None, median=None)
    return SideStats(
        samples=int(values.size),
        dropped=dropped,
        mean=float(np.mean(values)),
        median=float(np.median(values)),
    )


def _ratio(canary_mean: float, baseline_mean: float) -> float:
    if baseline_mean == 0:
        return 1.0 if canary_mean == 0 else math.copysign(math.inf, canary_mean)
    return canary_mean / baseline_mean


def classify_metric(
    config: MetricConfig, baseline: Sequence[float], canary: Sequence[float], confidence: float = 0.98
) -> MetricResult:
    """One metric's classification: NoData, Pass, High or Low, with the evidence."""
    base_values, base_dropped = _clean(baseline, f"baseline.{config.name}")
    canary_values, canary_dropped = _clean(canary, f"canary.{config.name}")
    base, can = _stats(base_values, base_dropped), _stats(canary_values, canary_dropped)

    def result(
        classification: Classification, reason: str, p: float | None, ratio: float | None
    ) -> MetricResult:
        return MetricResult(
            name=config.name,
            classification=classification,
            reason=reason,
            p_value=p,
            effect_size=ratio,
            baseline=base,
            canary=can,
            weight=config.weight,
            critical=config.critical,
        )

    if base.samples < config.min_samples or can.samples < config.min_samples:
        return result(
            Classification.NO_DATA,
            f"{config.name}: not enough data: baseline {base.samples} and canary {can.samples} samples, "
            f"at least {config.min_samples} each needed",
            None,
            None,
        )
    one_value = base_values[0] == base_values[-1] == canary_values[0] == canary_values[-1]
    if one_value or np.array_equal(base_values, canary_values):
        return result(
            Classification.PASS, f"{config.name}: baseline and canary samples are the same", None, 1.0
        )

    assert base.mean is not None and can.mean is not None
    ratio = _ratio(can.mean, base.mean)
    alpha = 1.0 - confidence
    # Imported here: scipy.stats takes seconds to import, and status/set/rollback never need it.
    from scipy.stats import mannwhitneyu

    p = float(mannwhitneyu(canary_values, base_values, alternative=_ALTERNATIVE[config.direction]).pvalue)
    significant = p < alpha
    summary = f"canary mean {can.mean:.4g} vs baseline {base.mean:.4g} (ratio {ratio:.3g}, p={p:.3g})"
    may_be_high = config.direction in ("higher_is_worse", "either")
    may_be_low = config.direction in ("lower_is_worse", "either")
    if may_be_high and significant and ratio > config.allowed_increase:
        return result(
            Classification.HIGH,
            f"{config.name}: High: {summary}; above the allowed increase {config.allowed_increase:g}",
            p,
            ratio,
        )
    if may_be_low and significant and ratio < config.allowed_decrease:
        return result(
            Classification.LOW,
            f"{config.name}: Low: {summary}; below the allowed decrease {config.allowed_decrease:g}",
            p,
            ratio,
        )
    why = "within tolerance" if significant else f"no significant difference at {confidence:.0%}"
    return result(Classification.PASS, f"{config.name}: Pass: {summary}; {why}", p, ratio)


def judge(
    config: JudgeConfig, baseline: Mapping[str, Sequence[float]], canary: Mapping[str, Sequence[float]]
) -> CanaryResult:
    """Judge the canary against the baseline over every configured metric.

    ``baseline`` and ``canary`` map a metric name to its samples (per invocation, or per period);
    a configured metric missing from either is NoData. A name that is not configured is an error,
    as a misspelt metric would otherwise be silently ignored.
    """
    known = {metric.name for metric in config.metrics}
    for side, samples in (("baseline", baseline), ("canary", canary)):
        unknown = sorted(set(samples) - known)
        if unknown:
            raise ValueError(f"{side}: metric {', '.join(map(repr, unknown))} is not in the judge config")
    results = tuple(
        classify_metric(metric, baseline.get(metric.name, ()), canary.get(metric.name, ()), config.confidence)
        for metric in config.metrics
    )
    return score(config, results)


def score(config: JudgeConfig, results: Sequence[MetricResult]) -> CanaryResult:
    """Weighted score and verdict from per-metric results (Kayenta's WeightedSumScorer + thresholds)."""
    with_data = [r for r in results if r.classification is not Classification.NO_DATA]
    failing = [r for r in with_data if r.classification is not Classification.PASS]
    critical_failing = [r for r in failing if r.critical]
    critical_no_data = [r for r in results if r.critical and r.classification is Classification.NO_DATA]
    no_data = [r for r in results if r.classification is Classification.NO_DATA]

    total = math.fsum(r.weight for r in with_data)
    value = (
        None
        if not with_data
        else 100.0 * math.fsum(r.weight for r in with_data if r.classification is Classification.PASS) / total
    )
    reasons = [r.reason for r in failing] + [r.reason for r in no_data]

    if critical_failing:
        verdict = Verdict.FAIL
        value = 0.0  # as Kayenta's WeightedSumScorer scores a critical failure
        names = ", ".join(r.name for r in critical_failing)
        reasons.insert(0, f"critical metric {names} is not Pass: the canary fails whatever the score")
    elif value is None or critical_no_data:
        verdict = Verdict.NOT_ENOUGH_DATA
        value = None  # a score over the metrics that happen to have data would read as a judgement
        lacking = critical_no_data or no_data
        names = ", ".join(r.name for r in lacking)
        reasons.insert(0, f"not enough data to judge ({names}): let more traffic reach the canary")
    elif value >= config.pass_threshold:
        verdict = Verdict.PASS
    elif value >= config.marginal_threshold:
        verdict = Verdict.MARGINAL
    else:
        verdict = Verdict.FAIL
    if (
        verdict in (Verdict.PASS, Verdict.MARGINAL, Verdict.FAIL)
        and value is not None
        and not critical_failing
    ):
        reasons.insert(
            0,
            f"score {value:.1f} ({verdict.value}; pass at {config.pass_threshold:g}, "
            f"marginal at {config.marginal_threshold:g})",
        )
    return CanaryResult(
        verdict=verdict,
        score=value,
        pass_threshold=config.pass_threshold,
        marginal_threshold=config.marginal_threshold,
        metrics=tuple(results),
        reasons=tuple(reasons),
    )


def default_config(min_samples: int = 20) -> JudgeConfig:
    """The metrics the canary is judged on by default: errors (critical), duration, compensations.

    ``min_samples`` is per side and per metric; per-invocation samples need more than per-minute ones.
    """
    return JudgeConfig(
        metrics=(
            MetricConfig(
                name="error_rate", allowed_increase=1.0, weight=2.0, critical=True, min_samples=min_samples
            ),
            MetricConfig(name="duration_ms", allowed_increase=1.2, min_samples=min_samples),
            MetricConfig(name="compensation_rate", allowed_increase=1.0, min_samples=min_samples),
        )
    )
