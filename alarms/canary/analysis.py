"""One canary analysis: the alias's two versions, their samples from the first source that has
enough, and the judge's verdict -- what the CLI prints and the dashboard's canary page shows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from alarms.canary.control import AliasState
from alarms.canary.judge import CanaryResult, JudgeConfig, Verdict, judge
from alarms.canary.metrics import SampleSource, VersionSamples


class NoCanaryError(Exception):
    """The alias routes to one version only: there is nothing to compare."""


class VersionSummary(BaseModel):
    """One version side by side with the other: its role, share and counts in the window."""

    model_config = ConfigDict(frozen=True)

    version: str
    role: Literal["baseline", "canary"]
    weight: float
    invocations: int
    errors: int
    error_rate: float | None


class CanaryReport(BaseModel):
    model_config = ConfigDict(frozen=True, ser_json_inf_nan="strings")

    function: str
    alias: str
    source: str
    start: datetime
    end: datetime
    alias_state: AliasState
    versions: tuple[VersionSummary, VersionSummary]
    result: CanaryResult


def _summary(samples: VersionSamples, role: Literal["baseline", "canary"], weight: float) -> VersionSummary:
    return VersionSummary(
        version=samples.version,
        role=role,
        weight=weight,
        invocations=samples.invocations,
        errors=samples.errors,
        error_rate=samples.error_rate,
    )


def analyse(
    state: AliasState,
    sources: Sequence[SampleSource],
    start: datetime,
    end: datetime,
    config: JudgeConfig,
) -> CanaryReport:
    """Judge the alias's canary against its primary version over ``[start, end)``.

    Sources are tried in order; the first whose data gives a verdict other than NOT_ENOUGH_DATA
    is used, else the last one's (so the operator sees how much data there is).
    """
    if not sources:
        raise ValueError("sources: at least one sample source is needed")
    if state.canary_version is None:
        raise NoCanaryError(
            f"alias {state.alias!r} of {state.function!r} routes only to version {state.primary_version}: "
            "no canary to judge"
        )
    if end <= start:
        raise ValueError(f"end: {end.isoformat()} is not after start {start.isoformat()}")
    baseline_version, canary_version = state.primary_version, state.canary_version
    known = {metric.name for metric in config.metrics}
    report: CanaryReport | None = None
    for source in sources:
        found = source.samples([baseline_version, canary_version], start, end)
        baseline, canary = found[baseline_version], found[canary_version]
        result = judge(
            config,
            {name: values for name, values in baseline.samples.items() if name in known},
            {name: values for name, values in canary.samples.items() if name in known},
        )
        report = CanaryReport(
            function=state.function,
            alias=state.alias,
            source=source.name,
            start=start,
            end=end,
            alias_state=state,
            versions=(
                _summary(baseline, "baseline", 1.0 - state.canary_weight),
                _summary(canary, "canary", state.canary_weight),
            ),
            result=result,
        )
        if result.verdict is not Verdict.NOT_ENOUGH_DATA:
            break
    assert report is not None
    return report
