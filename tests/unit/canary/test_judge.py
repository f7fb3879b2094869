"""The canary judge on samples an operator would recognise: healthy, defective, slower, faster, sparse."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from alarms.canary.judge import (
    Classification,
    JudgeConfig,
    MetricConfig,
    Verdict,
    classify_metric,
    default_config,
    judge,
)


def errors(rng: random.Random, n: int, rate: float) -> list[float]:
    """Per-invocation error samples: 1.0 for a failed invocation, 0.0 for a good one."""
    return [1.0 if rng.random() < rate else 0.0 for _ in range(n)]


def durations(rng: random.Random, n: int, median_ms: float) -> list[float]:
    """Lambda-like durations: log-normal around the median."""
    return [rng.lognormvariate(0.0, 0.3) * median_ms for _ in range(n)]


ERRORS_AND_DURATION = JudgeConfig(
    metrics=(
        MetricConfig(name="error_rate", allowed_increase=1.0, weight=2.0, critical=True),
        MetricConfig(name="duration_ms", allowed_increase=1.2),
    )
)


def test_two_versions_drawn_from_the_same_distributions_pass() -> None:
    rng = random.Random(7)
    baseline = {"error_rate": errors(rng, 2000, 0.01), "duration_ms": durations(rng, 2000, 40.0)}
    canary = {"error_rate": errors(rng, 400, 0.01), "duration_ms": durations(rng, 400, 40.0)}

    result = judge(ERRORS_AND_DURATION, baseline, canary)

    assert result.verdict is Verdict.PASS
    assert result.score == 100.0
    assert [m.classification for m in result.metrics] == [Classification.PASS, Classification.PASS]
    assert result.metrics[0].baseline.samples == 2000
    assert result.metrics[0].canary.samples == 400


def test_a_defective_canary_with_20_percent_errors_against_1_percent_fails_on_the_error_metric() -> None:
    rng = random.Random(11)
    baseline = {"error_rate": errors(rng, 2000, 0.01), "duration_ms": durations(rng, 2000, 40.0)}
    canary = {"error_rate": errors(rng, 300, 0.20), "duration_ms": durations(rng, 300, 40.0)}

    result = judge(ERRORS_AND_DURATION, baseline, canary)

    assert result.verdict is Verdict.FAIL
    error_metric = result.metrics[0]
    assert error_metric.classification is Classification.HIGH
    assert error_metric.p_value is not None and error_metric.p_value < 0.02
    assert error_metric.effect_size is not None and error_metric.effect_size > 5
    assert result.metrics[1].classification is Classification.PASS
    assert any("critical metric error_rate" in reason for reason in result.reasons)


def test_a_small_latency_shift_within_tolerance_passes_even_when_it_is_significant() -> None:
    rng = random.Random(3)
    config = JudgeConfig(metrics=(MetricConfig(name="duration_ms", allowed_increase=1.2),))
    baseline = {"duration_ms": durations(rng, 5000, 40.0)}
    canary = {"duration_ms": durations(rng, 5000, 43.0)}  # 7.5 % slower: real, but tolerated

    result = judge(config, baseline, canary)

    metric = result.metrics[0]
    assert metric.p_value is not None and metric.p_value < 0.02, "the shift is detectable"
    assert metric.effect_size is not None and 1.0 < metric.effect_size < 1.2
    assert metric.classification is Classification.PASS
    assert "within tolerance" in metric.reason
    assert result.verdict is Verdict.PASS


def test_a_latency_shift_beyond_tolerance_is_high() -> None:
    rng = random.Random(5)
    config = JudgeConfig(metrics=(MetricConfig(name="duration_ms", allowed_increase=1.2),))

    result = judge(
        config, {"duration_ms": durations(rng, 500, 40.0)}, {"duration_ms": durations(rng, 200, 60.0)}
    )

    assert result.metrics[0].classification is Classification.HIGH
    assert result.verdict is Verdict.FAIL
    assert result.score == 0.0


def test_higher_is_better_metric_fails_only_when_the_canary_is_lower() -> None:
    rng = random.Random(13)
    config = JudgeConfig(metrics=(MetricConfig(name="orders_per_minute", direction="lower_is_worse"),))
    baseline = {"orders_per_minute": [rng.gauss(100.0, 5.0) for _ in range(60)]}

    worse = judge(config, baseline, {"orders_per_minute": [rng.gauss(70.0, 5.0) for _ in range(60)]})
    better = judge(config, baseline, {"orders_per_minute": [rng.gauss(130.0, 5.0) for _ in range(60)]})

    assert worse.metrics[0].classification is Classification.LOW
    assert worse.verdict is Verdict.FAIL
    assert better.metrics[0].classification is Classification.PASS
    assert better.verdict is Verdict.PASS


def test_either_direction_flags_both_ways() -> None:
    rng = random.Random(17)
    config = JudgeConfig(metrics=(MetricConfig(name="payload_bytes", direction="either"),))
    baseline = {"payload_bytes": [rng.gauss(1000.0, 50.0) for _ in range(100)]}

    up = judge(config, baseline, {"payload_bytes": [rng.gauss(1500.0, 50.0) for _ in range(100)]})
    down = judge(config, baseline, {"payload_bytes": [rng.gauss(500.0, 50.0) for _ in range(100)]})

    assert up.metrics[0].classification is Classification.HIGH
    assert down.metrics[0].classification is Classification.LOW


def test_a_failing_critical_metric_fails_a_canary_whose_score_would_pass() -> None:
    rng = random.Random(19)
    healthy = [MetricConfig(name=f"m{i}") for i in range(19)]
    baseline = {f"m{i}": durations(rng, 200, 10.0) for i in range(19)}
    canary = {f"m{i}": list(baseline[f"m{i}"]) for i in range(19)}
    baseline["bad"] = errors(rng, 500, 0.01)
    canary["bad"] = errors(rng, 500, 0.30)

    as_normal = judge(JudgeConfig(metrics=(*healthy, MetricConfig(name="bad"))), baseline, canary)
    as_critical = judge(
        JudgeConfig(metrics=(*healthy, MetricConfig(name="bad", critical=True))), baseline, canary
    )

    assert as_normal.score == 95.0
    assert as_normal.verdict is Verdict.PASS
    assert as_critical.verdict is Verdict.FAIL
    assert as_critical.reasons[0].startswith("critical metric bad")


def test_a_score_between_the_thresholds_is_marginal() -> None:
    rng = random.Random(23)
    config = JudgeConfig(metrics=tuple(MetricConfig(name=name) for name in ("a", "b", "c", "d")))
    baseline = {name: durations(rng, 200, 10.0) for name in "abcd"}
    canary = {name: list(baseline[name]) for name in "abc"} | {"d": durations(rng, 200, 30.0)}

    result = judge(config, baseline, canary)

    assert result.score == 75.0
    assert result.verdict is Verdict.MARGINAL
    assert result.reasons[0].startswith("score 75.0 (MARGINAL")


def test_too_few_canary_samples_is_not_enough_data_with_the_counts() -> None:
    rng = random.Random(29)
    baseline = {"error_rate": errors(rng, 950, 0.01), "duration_ms": durations(rng, 950, 40.0)}
    canary = {"error_rate": [1.0] * 6, "duration_ms": durations(rng, 6, 40.0)}

    result = judge(ERRORS_AND_DURATION, baseline, canary)

    assert result.verdict is Verdict.NOT_ENOUGH_DATA
    assert result.score is None
    assert result.metrics[0].classification is Classification.NO_DATA
    assert "baseline 950 and canary 6 samples, at least 20 each needed" in result.metrics[0].reason
    assert any("not enough data to judge" in reason for reason in result.reasons)


def test_a_critical_metric_without_enough_data_means_not_enough_data_whatever_the_others_say() -> None:
    rng = random.Random(37)
    baseline = {"error_rate": errors(rng, 500, 0.01), "duration_ms": durations(rng, 500, 40.0)}
    canary = {"error_rate": errors(rng, 8, 0.01), "duration_ms": durations(rng, 500, 40.0)}

    result = judge(ERRORS_AND_DURATION, baseline, canary)

    assert result.metrics[1].classification is Classification.PASS
    assert result.verdict is Verdict.NOT_ENOUGH_DATA
    assert result.score is None
    assert result.reasons[0].startswith("not enough data to judge (error_rate)")


def test_a_metric_missing_from_the_samples_is_no_data_and_left_out_of_the_score() -> None:
    rng = random.Random(31)
    samples = {"error_rate": errors(rng, 300, 0.0), "duration_ms": durations(rng, 300, 40.0)}

    result = judge(default_config(), samples, dict(samples))

    by_name = {m.name: m for m in result.metrics}
    assert by_name["compensation_rate"].classification is Classification.NO_DATA
    assert by_name["compensation_rate"].canary.samples == 0
    assert result.verdict is Verdict.PASS
    assert result.score == 100.0


def test_non_finite_samples_are_dropped_and_counted() -> None:
    config = MetricConfig(name="duration_ms", min_samples=3)
    result = classify_metric(config, [1.0, 2.0, float("nan"), 3.0], [1.0, 2.0, 3.0, float("inf")])
    assert result.baseline.samples == 3 and result.baseline.dropped == 1
    assert result.canary.dropped == 1
    assert result.classification is Classification.PASS


def test_errors_only_in_the_canary_report_an_infinite_ratio_that_survives_json() -> None:
    config = JudgeConfig(metrics=(MetricConfig(name="error_rate", allowed_increase=1.0),))
    result = judge(config, {"error_rate": [0.0] * 200}, {"error_rate": [0.0] * 150 + [1.0] * 50})

    assert result.metrics[0].classification is Classification.HIGH
    rendered = json.loads(result.model_dump_json())
    assert rendered["metrics"][0]["effect_size"] == "Infinity"
    assert rendered["verdict"] == "FAIL"


def test_a_sample_for_a_metric_that_is_not_configured_is_named() -> None:
    with pytest.raises(ValueError, match="canary: metric 'eror_rate' is not in the judge config"):
        judge(ERRORS_AND_DURATION, {}, {"eror_rate": [0.0]})


def test_samples_that_are_not_numbers_are_refused_naming_the_side_and_metric() -> None:
    with pytest.raises(ValueError, match=r"canary\.duration_ms: samples must be numbers"):
        judge(ERRORS_AND_DURATION, {"duration_ms": [1.0] * 30}, {"duration_ms": ["fast"] * 30})  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"pass_threshold": 70.0, "marginal_threshold": 80.0}, "marginal_threshold"),
        ({"pass_threshold": 120.0}, "pass_threshold"),
        ({"metrics": (MetricConfig(name="a"), MetricConfig(name="a"))}, "metrics"),
        ({"metrics": ()}, "metrics"),
    ],
)
def test_a_bad_judge_config_names_the_field(kwargs: dict[str, object], field: str) -> None:
    arguments: dict[str, object] = {"metrics": (MetricConfig(name="a"),), **kwargs}
    with pytest.raises(ValidationError, match=field):
        JudgeConfig.model_validate(arguments)


def test_a_bad_metric_config_names_the_field() -> None:
    with pytest.raises(ValidationError, match="allowed_increase"):
        MetricConfig(name="a", allowed_increase=0.5)
    with pytest.raises(ValidationError, match="weight"):
        MetricConfig(name="a", weight=0)


samples = st.lists(st.floats(min_value=0, max_value=1e4, allow_nan=False), min_size=0, max_size=60)


@settings(max_examples=150, deadline=None)
@given(
    baseline=samples,
    canary=samples,
    errors_base=st.lists(st.sampled_from([0.0, 1.0]), max_size=60),
    errors_canary=st.lists(st.sampled_from([0.0, 1.0]), max_size=60),
    seed=st.integers(0, 2**32 - 1),
)
def test_reordering_samples_never_changes_the_judgement(
    baseline: list[float],
    canary: list[float],
    errors_base: list[float],
    errors_canary: list[float],
    seed: int,
) -> None:
    config = JudgeConfig(
        metrics=(
            MetricConfig(name="duration_ms", min_samples=3, allowed_increase=1.2),
            MetricConfig(name="error_rate", min_samples=3, allowed_increase=1.0, critical=True),
        )
    )
    rng = random.Random(seed)
    shuffled = [list(values) for values in (baseline, canary, errors_base, errors_canary)]
    for values in shuffled:
        rng.shuffle(values)

    original = judge(
        config,
        {"duration_ms": baseline, "error_rate": errors_base},
        {"duration_ms": canary, "error_rate": errors_canary},
    )
    reordered = judge(
        config,
        {"duration_ms": shuffled[0], "error_rate": shuffled[2]},
        {"duration_ms": shuffled[1], "error_rate": shuffled[3]},
    )

    assert reordered.verdict == original.verdict
    assert reordered.score == original.score
    assert [m.classification for m in reordered.metrics] == [m.classification for m in original.metrics]
