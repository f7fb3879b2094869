"""One simulated SaaS: its model and everything the simulator adds around the vendor's HTTP shape.

``SimService`` bundles what a service owns (model, clock, fault switch,
rate limiter, idempotency keys, write log) so that the gateway, the admin
endpoints and the server can treat the three services alike; the vendor's
own look (error bodies, rate-limit headers) comes in through ``ServiceShape``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from starlette.types import ASGIApp

from instrumented_app.saas_sim.clock import SimClock
from instrumented_app.saas_sim.faults import FaultConfig, FaultSwitch
from instrumented_app.saas_sim.idempotency import IdempotencyStore
from instrumented_app.saas_sim.ratelimit import BucketState, LeakyBucket
from instrumented_app.saas_sim.records import Loader
from instrumented_app.saas_sim.writes import WriteLog


class SimModel(Protocol):
    """What every service's ``models.py`` backend offers besides its own operations."""

    def reset(self) -> None: ...

    def count(self) -> int: ...

    def snapshot(self) -> dict[str, Any]: ...

    def load(self, entries: Sequence[Mapping[str, Any]]) -> int: ...

    def restore(self, data: Mapping[str, Any]) -> None: ...


@dataclass(frozen=True)
class ServiceShape:
    """How one vendor words what every simulator must say (errors, throttling)."""

    #: (status, message) -> the vendor's JSON error body
    error_body: Callable[[int, str], dict[str, Any]]
    #: bucket state -> the vendor's rate-limit headers on every answer
    limit_headers: Callable[[BucketState], dict[str, str]]
    #: seconds -> the vendor's ``Retry-After`` value
    retry_after: Callable[[float], str] = lambda seconds: str(max(1, math.ceil(seconds)))
    #: bucket size when the fault config gives none
    default_burst: Callable[[float], int] = lambda rate: max(1, math.ceil(rate))


@dataclass
class SimService:
    """A service: the vendor-shaped ASGI app over a model, plus the simulator's own state."""

    name: str
    model: SimModel
    clock: SimClock
    shape: ServiceShape
    inner_app: ASGIApp
    #: the bulk import behind ``POST /_admin/records`` (checks every record, then writes all or none)
    loader: Loader
    faults: FaultSwitch = field(default_factory=FaultSwitch)
    writes: WriteLog = field(default_factory=WriteLog)
    idempotency: IdempotencyStore = field(init=False)
    _limiter: LeakyBucket | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self.idempotency = IdempotencyStore(self.clock)

    @property
    def limiter(self) -> LeakyBucket | None:
        with self._lock:
            return self._limiter

    def configure_faults(self, config: FaultConfig) -> None:
        """Apply a new fault config; a new rate limit starts with an empty bucket."""
        self.faults.configure(config)
        limiter = None
        if config.rate_limit_per_s is not None:
            burst = config.burst or self.shape.default_burst(config.rate_limit_per_s)
            limiter = LeakyBucket(burst, config.rate_limit_per_s)
        with self._lock:
            self._limiter = limiter

    def reset(self) -> None:
        """Empty storage, forget keys and writes, no faults, real time."""
        self.model.reset()
        self.idempotency.reset()
        self.writes.reset()
        self.configure_faults(FaultConfig())
        self.clock.set_now(None)

    def snapshot(self) -> dict[str, Any]:
        return {
            "model": self.model.snapshot(),
            "idempotency": self.idempotency.snapshot(),
            "writes": self.writes.snapshot(),
            "faults": self.faults.config.model_dump(),
            "clock_offset_s": self.clock.offset_s,
        }

    def restore(self, data: Mapping[str, Any]) -> None:
        self.model.restore(data.get("model", {}))
        self.idempotency.restore(list(data.get("idempotency", [])))
        self.writes.restore(list(data.get("writes", [])))
        self.configure_faults(FaultConfig.model_validate(data.get("faults", {})))
        self.clock.set_offset_s(float(data.get("clock_offset_s", 0.0)))
