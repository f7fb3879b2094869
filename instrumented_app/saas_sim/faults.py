"""The fault switch: errors, timeouts, latency and a rate limit, decided per request.

A stack test has to make the SaaS side misbehave on purpose and the same way
twice: every decision draws from one ``random.Random`` seeded from the
config, a fixed number of draws per request, so a given seed and request
order give the same sequence of failures. The switch only decides; the
gateway (``gateway.py``) acts on the decision around the HTTP layer, so the
models never see a fault.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

TimeoutPhase = Literal["before", "after", "either"]


class FaultConfig(BaseModel):
    """What a simulator should do wrong; every field bounded so nothing hangs for ever."""

    model_config = ConfigDict(extra="forbid")

    error_rate: float = Field(default=0.0, ge=0.0, le=1.0, description="Share of calls answered 500/503.")
    timeout_rate: float = Field(
        default=0.0, ge=0.0, le=1.0, description="Share of calls that hang, then lose the connection."
    )
    latency_ms: int = Field(default=0, ge=0, le=60_000, description="Added to every call before it runs.")
    rate_limit_per_s: float | None = Field(
        default=None, gt=0, le=100_000, description="Leak rate of a leaky bucket; null: no limit."
    )
    burst: int | None = Field(
        default=None, ge=1, le=100_000, description="Bucket size; null: the service's own (commerce: 40)."
    )
    hang_ms: int = Field(
        default=2_000, ge=0, le=60_000, description="How long a timed-out call hangs before the drop."
    )
    timeout_phase: TimeoutPhase = Field(
        default="either",
        description="'before': the call is lost unprocessed; 'after': processed, answer lost; 'either'.",
    )
    seed: int | None = Field(default=None, description="Seed of the decisions; null: not reproducible.")

    @model_validator(mode="after")
    def _rates_fit(self) -> FaultConfig:
        if self.error_rate + self.timeout_rate > 1.0:
            raise ValueError(
                f"error_rate + timeout_rate must be at most 1, got {self.error_rate} + {self.timeout_rate}"
            )
        return self


@dataclass(frozen=True)
class FaultDecision:
    """What happens to one call."""

    latency_s: float
    error_status: int | None = None
    timeout: Literal["before", "after"] | None = None
    hang_s: float = 0.0

    @property
    def clean(self) -> bool:
        return self.error_status is None and self.timeout is None


class FaultSwitch:
    """The current config and its random source; thread-safe."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self._lock = threading.Lock()
        self._config = FaultConfig()
        self._rng = random.Random()
        self.configure(config or FaultConfig())

    @property
    def config(self) -> FaultConfig:
        with self._lock:
            return self._config

    def configure(self, config: FaultConfig) -> None:
        """Replace the config and restart the random sequence from its seed."""
        with self._lock:
            self._config = config
            self._rng = random.Random(config.seed)

    def decide(self) -> FaultDecision:
        """Draw the fate of one call (always three draws, so sequences stay aligned)."""
        with self._lock:
            config = self._config
            fate, kind, phase = self._rng.random(), self._rng.random(), self._rng.random()
        return decide_from_draws(config, fate, kind, phase)


def decide_from_draws(config: FaultConfig, fate: float, kind: float, phase: float) -> FaultDecision:
    """Pure: three uniform draws in [0, 1) and a config -> the call's fate."""
    latency_s = config.latency_ms / 1000.0
    if fate < config.error_rate:
        return FaultDecision(latency_s=latency_s, error_status=503 if kind < 0.5 else 500)
    if fate < config.error_rate + config.timeout_rate:
        chosen: Literal["before", "after"]
        if config.timeout_phase == "either":
            chosen = "before" if phase < 0.5 else "after"
        else:
            chosen = config.timeout_phase
        return FaultDecision(latency_s=latency_s, timeout=chosen, hang_s=config.hang_ms / 1000.0)
    return FaultDecision(latency_s=latency_s)
