"""One HTTP call to a SaaS, retried the way its API asks: tenacity, ``Retry-After``, a bounded budget.

Every SaaS backend (read and write) goes through ``SaasHttp.request``, so the
rules live in one place:

* 429 waits what ``Retry-After`` says (seconds, decimal as Shopify sends, or
  an HTTP date), capped at ``RetryPolicy.max_wait_s``;
* 500/502/503/504 and transport errors (timeouts, dropped connections)
  back off exponentially with jitter;
* any other 4xx is not retried: it is a ``SourceError`` naming the system,
  the call and the vendor's own message;
* attempts are bounded (``RetryPolicy.attempts``), so a dead system fails a
  run in bounded time instead of hanging the scheduler.

Pagination loops in the backends keep their cursor across these retries,
which is what "resume from a cursor after a failure" means here: a failed
page is asked for again with the same cursor, never from the start.
"""

from __future__ import annotations

import email.utils
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import Any, TypeVar

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from reconciler.masking import PiiKind, mask
from reconciler.sources.base import SourceError

T = TypeVar("T")

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try one call before the run gives up on a system."""

    attempts: int = 8
    initial_wait_s: float = 0.1
    max_wait_s: float = 30.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be at least 1, got {self.attempts}")
        if self.initial_wait_s < 0 or self.max_wait_s < self.initial_wait_s:
            raise ValueError("waits must satisfy 0 <= initial_wait_s <= max_wait_s")


class RetryableResponse(Exception):
    """A response worth asking again for (429, 5xx); carries the server's wait hint if any."""

    def __init__(self, response: httpx.Response, retry_after_s: float | None) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response
        self.retry_after_s = retry_after_s


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from ``Retry-After`` (``"2"``, ``"2.0"`` or an HTTP date); None if unreadable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class SaasHttp:
    """An ``httpx.Client`` (base URL set by the caller) with one system's retry rules."""

    def __init__(self, client: httpx.Client, system: str, policy: RetryPolicy | None = None) -> None:
        self.client = client
        self.system = system
        self.policy = policy or RetryPolicy()
        self._backoff = wait_exponential_jitter(
            multiplier=self.policy.initial_wait_s,
            max=self.policy.max_wait_s,
            jitter=self.policy.initial_wait_s,
        )
        self.retries = 0  # how many calls were asked again (for run records and tests)

    def request(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        not_found_ok: bool = False,
    ) -> httpx.Response:
        """The final response (2xx, or 404 when ``not_found_ok``); raises ``SourceError`` otherwise."""
        retrying = Retrying(
            retry=retry_if_exception_type((RetryableResponse, httpx.TransportError)),
            stop=stop_after_attempt(self.policy.attempts),
            wait=self._wait,
            before_sleep=self._count_retry,
            sleep=time.sleep,
            reraise=True,
        )
        try:
            response: httpx.Response = retrying(
                self._once, method, url, params=params, json=json, headers=headers
            )
        except RetryableResponse as exc:
            raise self._error(method, url, exc.response, f"after {self.policy.attempts} attempts") from None
        except httpx.TransportError as exc:
            raise SourceError(
                f"{self.system}: {method} {url} failed after {self.policy.attempts} attempts: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        if response.is_success or (not_found_ok and response.status_code == 404):
            return response
        raise self._error(method, url, response, "not retried")

    def _once(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, Any] | None,
        json: Any,
        headers: dict[str, str] | None,
    ) -> httpx.Response:
        response = self.client.request(method, url, params=params, json=json, headers=headers)
        if response.status_code in RETRYABLE_STATUSES:
            raise RetryableResponse(response, parse_retry_after(response.headers.get("Retry-After")))
        return response

    def _wait(self, state: RetryCallState) -> float:
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, RetryableResponse) and error.retry_after_s is not None:
            return min(error.retry_after_s, self.policy.max_wait_s)
        return float(self._backoff(state))

    def _count_retry(self, _: RetryCallState) -> None:
        self.retries += 1

    def _error(self, method: str, url: str, response: httpx.Response, note: str) -> SourceError:
        body = scrub_pii(response.text[:300].replace("\n", " "))
        return SourceError(
            f"{self.system}: {method} {url} answered HTTP {response.status_code} ({note}): {body}"
        )


_EMAIL = re.compile(r"[^\s@\"',;:<>()]+@[^\s@\"',;:<>()]+")
_PHONE = re.compile(r"\+?\d[\d\- ]{6,}\d")


def scrub_pii(text: str) -> str:
    """A vendor's error message with e-mail addresses and phone numbers masked (they echo input back)."""
    text = _EMAIL.sub(lambda m: mask(m.group(0), PiiKind.EMAIL) or "", text)
    return _PHONE.sub(lambda m: mask(re.sub(r"[\- ]", "", m.group(0)), PiiKind.PHONE) or "", text)


def batched(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """``items`` in lists of ``size`` (``itertools.batched`` arrives in Python 3.12)."""
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def floor_second(moment: datetime) -> datetime:
    """``moment`` without its fraction: SaaS timestamps have whole seconds, and reading more is harmless."""
    return moment.replace(microsecond=0)


def fetch_each(
    items: Sequence[T], fetch_one: Callable[[T], list[Mapping[str, Any]]], workers: int
) -> Iterator[Mapping[str, Any]]:
    """``fetch_one`` for every item (a key, or a batch of keys), ``workers`` calls in flight, in order.

    The calls wait on the network, not on us, so a few threads cut an
    incremental run's time by about as many. ``items`` is one batch of the
    diff (hundreds of keys), so the futures held are bounded by it.
    """
    if workers <= 1 or len(items) <= 1:
        for item in items:
            yield from fetch_one(item)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="saas-lookup") as pool:
        for found in pool.map(fetch_one, items):
            yield from found


def lookup_in_batches(
    keys: Sequence[str],
    fetch_batch: Callable[[Sequence[str]], list[Mapping[str, Any]]],
    fetch_one: Callable[[str], list[Mapping[str, Any]]],
    *,
    batch_size: int,
    workers: int,
) -> Iterator[Mapping[str, Any]]:
    """Objects of ``keys`` through an API's many-key lookup (comma-separated, ``batch_size`` a call).

    A key that itself holds a comma cannot travel in such a list; it goes through the API's
    one-key lookup (``fetch_one``) instead.
    """
    plain = [key for key in keys if "," not in key]
    odd = [key for key in keys if "," in key]
    yield from fetch_each(list(batched(plain, batch_size)), fetch_batch, workers)
    yield from fetch_each(odd, fetch_one, workers)
