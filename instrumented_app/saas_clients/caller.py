"""One SaaS call done properly: headers, timeout, retries that honour ``Retry-After``, a span.

Every typed client (support, commerce, membership) sends its requests through
``SaasCaller.call``, so the rules live in one place:

- every write carries an ``Idempotency-Key``; every call ``X-Correlation-Id``
  and ``traceparent`` (``outgoing_headers()``, taken inside the call's span);
- a 429 is always retried (the server did not run the request); a 5xx, a
  timeout or a dropped connection only when repeating is safe: the method is
  idempotent (GET, PUT, DELETE...) or the request carries an idempotency key;
  a connection that never opened is always safe;
- waits are jittered exponential backoff, or the server's ``Retry-After``;
- one span per logical call (``saas.system``, ``saas.operation``,
  ``saas.attempts``); httpx's instrumentation adds a child span per attempt.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from instrumented_app.saas_clients.errors import (
    SaasError,
    SaasNotFound,
    SaasRejected,
    SaasResponseInvalid,
    SaasUnavailable,
)
from instrumented_app.saas_clients.policy import RetryPolicy
from instrumented_app.telemetry import current_correlation_id, outgoing_headers, tracer
from instrumented_app.telemetry.tracing import record_failure
from sagawatch.contracts import CORRELATION_ID_ATTRIBUTE, IDEMPOTENCY_KEY_HEADER

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: The longest vendor error text kept in an exception (they can echo whole bodies).
MAX_ERROR_CHARS = 300
M = TypeVar("M", bound=BaseModel)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds (``2``, Shopify's ``2.0``) or an HTTP date."""
    if not value:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        seconds = (moment - (now or datetime.now(UTC))).total_seconds()
    return max(0.0, seconds)


class BackoffHonouringRetryAfter:
    """tenacity wait: the server's ``Retry-After`` when it gave one, else full-jitter exponential backoff."""

    def __init__(self, policy: RetryPolicy, rng: random.Random | None = None) -> None:
        self.policy = policy
        self.rng = rng or random.Random()

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, SaasUnavailable) and exc.retry_after_s is not None:
            return min(exc.retry_after_s, self.policy.max_retry_after_s)
        ceiling = min(self.policy.backoff_max_s, self.policy.backoff_base_s * 2 ** (state.attempt_number - 1))
        return self.rng.uniform(0, ceiling)


class _AttemptOutcomes:
    """Remembers whether any attempt of one call ended without knowing if the SaaS wrote."""

    def __init__(self) -> None:
        self.unknown = False

    def watch(self, attempt: Callable[..., httpx.Response]) -> Callable[..., httpx.Response]:
        def watched(*args: Any) -> httpx.Response:
            try:
                return attempt(*args)
            except SaasError as exc:
                never_sent = isinstance(exc.__cause__, (httpx.ConnectError, httpx.ConnectTimeout))
                if not exc.definite and not never_sent:
                    self.unknown = True
                raise

        return watched


def _is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, SaasUnavailable) and exc.retryable


class SaasCaller:
    """Sends one system's requests through an ``httpx.Client`` whose ``base_url`` is that system."""

    def __init__(
        self,
        http: httpx.Client,
        system: str,
        policy: RetryPolicy | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.http = http
        self.system = system
        self.policy = policy or RetryPolicy()
        self._sleep = sleep
        self._wait = BackoffHonouringRetryAfter(self.policy, rng)

    def call(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        json_body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        """The successful response, or ``SaasError`` (a 404 is ``SaasNotFound``)."""
        response = self.call_allowing_404(
            method,
            path,
            operation=operation,
            json_body=json_body,
            params=params,
            idempotency_key=idempotency_key,
            allow_not_found=False,
        )
        assert response is not None  # only a 404 with allow_not_found gives None
        return response

    def call_allowing_404(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        json_body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        allow_not_found: bool = True,
    ) -> httpx.Response | None:
        """As ``call``, but a 404 gives None: "already gone" for deletes, "no such id" for reads."""
        method = method.upper()
        safe = method in IDEMPOTENT_METHODS or idempotency_key is not None
        attributes: dict[str, Any] = {
            "saas.system": self.system,
            "saas.operation": operation,
            "http.request.method": method,
            "saas.idempotent": safe,
        }
        correlation_id = current_correlation_id()
        if correlation_id:
            attributes[CORRELATION_ID_ATTRIBUTE] = correlation_id
        with tracer.start_as_current_span(
            f"{self.system} {operation}",
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            retrying = Retrying(
                stop=stop_after_attempt(self.policy.max_attempts),
                wait=self._wait,
                retry=retry_if_exception(_is_retryable),
                sleep=self._sleep,
                reraise=True,
            )
            outcomes = _AttemptOutcomes()
            try:
                response = retrying(
                    outcomes.watch(self._attempt),
                    method,
                    path,
                    operation,
                    json_body,
                    params,
                    idempotency_key,
                    safe,
                )
            except SaasNotFound:
                if allow_not_found:
                    span.set_attribute("saas.outcome", "not_found")
                    return None
                raise
            except SaasError as exc:
                if outcomes.unknown:
                    # A definite last answer (a 503, say) does not undo an earlier attempt that may
                    # have written before its answer was lost: the call's outcome stays unknown.
                    exc.definite = False
                record_failure(span, exc)
                raise
            finally:
                span.set_attribute("saas.attempts", retrying.statistics.get("attempt_number", 1))
            return response

    def _attempt(
        self,
        method: str,
        path: str,
        operation: str,
        json_body: Mapping[str, Any] | None,
        params: Mapping[str, str] | None,
        idempotency_key: str | None,
        safe: bool,
    ) -> httpx.Response:
        headers = {"Accept": "application/json", **outgoing_headers()}
        if idempotency_key is not None:
            headers[IDEMPOTENCY_KEY_HEADER] = idempotency_key
        try:
            response = self.http.request(
                method,
                path,
                json=dict(json_body) if json_body is not None else None,
                params=dict(params) if params else None,
                headers=headers,
                timeout=self.policy.timeout,
            )
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            # The request never left: repeating it cannot duplicate anything.
            raise SaasUnavailable(self.system, operation, f"cannot connect ({exc})", retryable=True) from exc
        except httpx.TransportError as exc:
            raise SaasUnavailable(
                self.system, operation, f"{type(exc).__name__}: {exc}", retryable=safe
            ) from exc
        return self._checked(response, operation, safe)

    def _checked(self, response: httpx.Response, operation: str, safe: bool) -> httpx.Response:
        status = response.status_code
        if status < 400:
            return response
        message = f"HTTP {status}: {_error_text(response)}"
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        if status == 429:
            raise SaasUnavailable(
                self.system, operation, message, status=status, retryable=True, retry_after_s=retry_after
            )
        if status >= 500:
            raise SaasUnavailable(
                self.system, operation, message, status=status, retryable=safe, retry_after_s=retry_after
            )
        if status == 404:
            raise SaasNotFound(self.system, operation, message, status)
        raise SaasRejected(self.system, operation, message, status)


def _error_text(response: httpx.Response) -> str:
    try:
        text = json.dumps(response.json(), separators=(",", ":"), ensure_ascii=False)
    except ValueError:
        text = response.text
    return text[:MAX_ERROR_CHARS] or "(empty body)"


def parse_body(response: httpx.Response, model: type[M], system: str, operation: str) -> M:
    """The body as ``model``; a malformed answer is a ``SaasResponseInvalid`` naming each bad field."""
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in err['loc']) or 'body'}: {err['msg']}" for err in exc.errors()
        )
        raise SaasResponseInvalid(system, operation, f"unexpected response body: {problems}") from exc
