"""How long to wait and how often to try: the retry policy every SaaS client shares."""

from __future__ import annotations

from dataclasses import dataclass

import httpx


@dataclass(frozen=True)
class RetryPolicy:
    """Attempts and waits for one SaaS call.

    Backoff is exponential with full jitter (AWS's advice for many clients
    retrying one server); a ``Retry-After`` from the server wins over it, up to
    ``max_retry_after_s`` (a server asking for minutes is treated as down).
    """

    max_attempts: int = 3
    backoff_base_s: float = 0.2
    backoff_max_s: float = 3.0
    max_retry_after_s: float = 10.0
    connect_timeout_s: float = 1.0
    read_timeout_s: float = 3.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts: must be at least 1, got {self.max_attempts}")
        for name in ("backoff_base_s", "backoff_max_s", "max_retry_after_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}: must not be negative, got {getattr(self, name)}")
        for name in ("connect_timeout_s", "read_timeout_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name}: must be positive, got {getattr(self, name)}")

    @property
    def timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.read_timeout_s, connect=self.connect_timeout_s)
