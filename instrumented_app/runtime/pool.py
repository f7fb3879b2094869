"""The warm execution environments of one function version, as the Lambda service keeps them.

At most ``limit`` environments at once (one per concurrent invocation); an idle
one is reused (warm start) and is shut down after ``idle_timeout_s`` without
work, as Lambda reclaims idle sandboxes, so a long-running stack does not keep
a Python process per function forever.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from instrumented_app.runtime.types import FunctionSpec


class Environment(Protocol):
    """What the pool needs of an environment (``ExecutionEnvironment`` in practice)."""

    def close(self) -> None: ...

    def kill(self) -> None: ...


E = TypeVar("E", bound=Environment)


@dataclass
class _Idle(Generic[E]):
    env: E
    since: float  # clock() when it was released


class EnvironmentPool(Generic[E]):
    def __init__(
        self,
        spec: FunctionSpec,
        version: str,
        limit: int,
        make_env: Callable[[FunctionSpec, str], E],
        *,
        idle_timeout_s: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.spec = spec
        self.version = version
        self._limit = limit
        self._make_env = make_env
        self._idle_timeout_s = idle_timeout_s
        self._clock = clock
        self._idle: list[_Idle[E]] = []  # most recently used last
        self._count = 0  # environments alive: idle plus busy
        self._cond = threading.Condition()
        self._closed = False

    @property
    def size(self) -> int:
        with self._cond:
            return self._count

    def acquire(self, timeout_s: float) -> tuple[E, bool] | None:
        """(an environment, whether it is new and still needs starting), or None if none frees in time.

        A closed pool (its function was reconfigured) still serves the caller that already
        chose it; what it starts is shut down on release.
        """
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while not self._idle and self._count >= self._limit:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)
            if self._idle:
                return self._idle.pop().env, False  # the warmest: most recently used
            self._count += 1
        return self._make_env(self.spec, self.version), True

    def release(self, env: E, reusable: bool) -> None:
        keep = reusable and not self._closed
        with self._cond:
            if keep:
                self._idle.append(_Idle(env, self._clock()))
            else:
                self._count -= 1
            self._cond.notify()
        if not keep:
            env.kill()

    def reap(self) -> int:
        """Shut down environments idle for longer than the idle timeout; returns how many."""
        cutoff = self._clock() - self._idle_timeout_s
        with self._cond:
            stale = [idle for idle in self._idle if idle.since <= cutoff]
            self._idle = [idle for idle in self._idle if idle.since > cutoff]
            self._count -= len(stale)
            self._cond.notify_all()
        for idle in stale:
            idle.env.close()
        return len(stale)

    def close(self) -> None:
        """Shut down the idle environments now; busy ones are killed when they are released."""
        with self._cond:
            self._closed = True
            idle, self._idle = self._idle, []
            self._count -= len(idle)
            self._cond.notify_all()
        for entry in idle:
            entry.env.close()
