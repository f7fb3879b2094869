"""The ASGI layer in front of a vendor-shaped app: rate limit, faults, idempotency, write log.

Order for a call to the vendor API (``/_admin`` bypasses all of it):

1. the leaky bucket (429 with ``Retry-After``, no further work);
2. the fault decision: latency, then a 500/503, or a hang that ends with the
   connection dropped (``before``: the call never runs; ``after``: it runs,
   its answer is lost, as when a client times out on a slow server);
3. ``Idempotency-Key`` on writes: replay, refuse, or run and keep the answer;
4. the vendor app itself, whose write is logged with its correlation id.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from instrumented_app.saas_sim.admin import build_admin_app
from instrumented_app.saas_sim.faults import FaultDecision
from instrumented_app.saas_sim.idempotency import StoredResponse, fingerprint
from instrumented_app.saas_sim.ratelimit import BucketState
from instrumented_app.saas_sim.service import SimService
from instrumented_app.saas_sim.writes import WriteEntry

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MAX_BODY_BYTES = 1_048_576
ADMIN_PREFIX = "/_admin"
#: Set by an endpoint in ``request.state`` to name the record a write touched.
RECORD_ID_STATE = "record_id"

_DROP_MESSAGE = "ASGI callable returned without completing response."


class _DropFilter(logging.Filter):
    """uvicorn logs a dropped connection as an error; here it is the point, so keep it quiet."""

    def filter(self, record: logging.LogRecord) -> bool:
        return _DROP_MESSAGE not in record.getMessage()


logging.getLogger("uvicorn.error").addFilter(_DropFilter())


@dataclass(frozen=True)
class _Captured:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


class SimGateway:
    """The ASGI app a simulator's server runs."""

    def __init__(self, service: SimService) -> None:
        self.service = service
        self.admin = build_admin_app(service)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.service.inner_app(scope, receive, send)
            return
        if scope["path"] == ADMIN_PREFIX or scope["path"].startswith(ADMIN_PREFIX + "/"):
            await self.admin(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:
            await _send(send, self._error(413, f"request body larger than {MAX_BODY_BYTES} bytes"))
            return

        bucket = self._take_from_bucket()
        limit_headers = self.service.shape.limit_headers(bucket) if bucket else {}
        if bucket is not None and not bucket.allowed:
            await _send(send, self._too_many_requests(bucket, limit_headers))
            return

        decision = self.service.faults.decide()
        if decision.latency_s > 0:
            await asyncio.sleep(decision.latency_s)
        if decision.error_status is not None:
            await _send(send, self._error(decision.error_status, "simulated server fault", limit_headers))
            return
        if decision.timeout == "before":
            await _hang_and_drop(send, decision)
            return

        answer = await self._run(scope, body)
        if decision.timeout == "after":
            await _hang_and_drop(send, decision)
            return
        await _send(send, _with_headers(answer, limit_headers))

    async def _run(self, scope: Scope, body: bytes) -> _Captured:
        """The vendor app, behind the idempotency key on writes."""
        method = scope["method"]
        headers = _headers(scope)
        key = headers.get("idempotency-key")
        if method not in WRITE_METHODS or not key:
            answer, _ = await self._call_and_log(scope, body, headers, key)
            return answer
        store = self.service.idempotency
        query = scope.get("query_string", b"").decode("latin-1")
        outcome = store.begin(key, fingerprint(method, scope["path"], query, body))
        if outcome.action == "mismatch":
            return self._error(422, "Idempotency-Key was already used with a different request")
        if outcome.action == "in_flight":
            return self._error(409, "a request with this Idempotency-Key is still being processed")
        if outcome.action == "replay" and outcome.stored is not None:
            stored = outcome.stored
            self._log_write(scope, stored.status, headers, key, record_id=stored.record_id, replayed=True)
            return _Captured(stored.status, (*stored.headers, ("Idempotent-Replayed", "true")), stored.body)
        try:
            answer, record_id = await self._call_and_log(scope, body, headers, key)
        except BaseException:
            store.release(key)
            raise
        if answer.status >= 500:
            store.release(key)
        else:
            store.complete(key, StoredResponse(answer.status, answer.headers, answer.body, record_id))
        return answer

    async def _call_and_log(
        self, scope: Scope, body: bytes, headers: dict[str, str], key: str | None
    ) -> tuple[_Captured, str | None]:
        """The vendor app's answer, and the id of the record a write touched (logged with it)."""
        inner_scope: dict[str, Any] = dict(scope)
        inner_scope["state"] = {}
        answer = await _capture(self.service.inner_app, inner_scope, body)
        touched = inner_scope["state"].get(RECORD_ID_STATE)
        record_id = None if touched is None else str(touched)
        if scope["method"] in WRITE_METHODS:
            self._log_write(scope, answer.status, headers, key, record_id=record_id, replayed=False)
        return answer, record_id

    def _log_write(
        self,
        scope: Scope,
        status: int,
        headers: dict[str, str],
        key: str | None,
        record_id: str | None,
        replayed: bool,
    ) -> None:
        self.service.writes.append(
            WriteEntry(
                at=self.service.clock.now().isoformat(),
                method=scope["method"],
                path=scope["path"],
                status=status,
                record_id=record_id,
                correlation_id=headers.get("x-correlation-id"),
                traceparent=headers.get("traceparent"),
                idempotency_key=key,
                replayed=replayed,
            )
        )

    def _take_from_bucket(self) -> BucketState | None:
        limiter = self.service.limiter
        return limiter.try_acquire() if limiter is not None else None

    def _too_many_requests(self, bucket: BucketState, limit_headers: dict[str, str]) -> _Captured:
        headers = {**limit_headers, "Retry-After": self.service.shape.retry_after(bucket.retry_after_s)}
        return self._error(429, "rate limit exceeded, retry after the Retry-After header", headers)

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> _Captured:
        body = json.dumps(self.service.shape.error_body(status, message)).encode()
        return _with_headers(_Captured(status, (("content-type", "application/json"),), body), headers or {})


def build_app(service: SimService) -> SimGateway:
    """The ASGI app of one simulator."""
    return SimGateway(service)


def _headers(scope: Scope) -> dict[str, str]:
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}


def _with_headers(answer: _Captured, extra: dict[str, str]) -> _Captured:
    if not extra:
        return answer
    kept = tuple(pair for pair in answer.headers if pair[0].lower() not in {k.lower() for k in extra})
    return _Captured(answer.status, (*kept, *extra.items()), answer.body)


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body, or None when it exceeds ``MAX_BODY_BYTES``."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _capture(app: ASGIApp, scope: Scope, body: bytes) -> _Captured:
    """Run an ASGI app on a buffered body and keep its answer instead of sending it."""
    delivered = False

    async def receive() -> Message:
        nonlocal delivered
        if delivered:
            await asyncio.Event().wait()  # a real server would block until the client disconnects
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    status = 500
    headers: list[tuple[str, str]] = []
    chunks: list[bytes] = []

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
            headers.extend(
                (name.decode("latin-1"), value.decode("latin-1"))
                for name, value in message.get("headers", [])
            )
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return _Captured(status, tuple(headers), b"".join(chunks))


async def _send(send: Send, answer: _Captured) -> None:
    headers = [
        (name.encode("latin-1"), value.encode("latin-1"))
        for name, value in answer.headers
        if name.lower() != "content-length"
    ]
    headers.append((b"content-length", str(len(answer.body)).encode()))
    await send({"type": "http.response.start", "status": answer.status, "headers": headers})
    await send({"type": "http.response.body", "body": answer.body, "more_body": False})


async def _hang_and_drop(send: Send, decision: FaultDecision) -> None:
    """Hang for the bounded time, then close the connection mid-answer: the client sees a broken call."""
    await asyncio.sleep(decision.hang_s)
    await send(
        {
            "type": "http.response.start",
            "status": 504,
            "headers": [(b"content-length", b"64"), (b"content-type", b"application/json")],
        }
    )
    # Returning now leaves the promised body unsent; uvicorn then closes the connection.
