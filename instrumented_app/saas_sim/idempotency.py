"""The ``Idempotency-Key`` store every simulator shares in shape (one instance per service).

Semantics, as Stripe and the IETF draft ``Idempotency-Key`` header describe
them: the first write with a key runs and its answer is kept; a repeat with
the same key and the same request gets that kept answer and changes nothing;
the same key with a different request is refused (422); a repeat while the
first is still running is refused (409). Server errors are not kept, so a
call that failed on our side can be retried under its key.

"The same request" means method, path, query and body, with a JSON body
compared by value (key order and whitespace do not count).
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Literal

from instrumented_app.saas_sim.clock import SimClock


@dataclass(frozen=True)
class StoredResponse:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    record_id: str | None = None  # the record the first call wrote, for the write log of replays


@dataclass(frozen=True)
class Outcome:
    """What to do with a keyed write: run it, replay a kept answer, or refuse it."""

    action: Literal["proceed", "replay", "mismatch", "in_flight"]
    stored: StoredResponse | None = None


@dataclass
class _Entry:
    fingerprint: str
    created_at: float
    response: StoredResponse | None  # None while the first call runs


def fingerprint(method: str, path: str, query: str, body: bytes) -> str:
    """A digest of the request; a JSON body is canonicalised first."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, UnicodeDecodeError):
        canonical = body
    digest = hashlib.sha256()
    for part in (method.upper().encode(), path.encode(), query.encode(), canonical):
        digest.update(part)
        digest.update(b"\x00")
    return digest.hexdigest()


class IdempotencyStore:
    """Keys of one service, kept ``ttl_s`` (Stripe: 24 h) and at most ``max_keys``, oldest dropped first."""

    def __init__(self, clock: SimClock, ttl_s: float = 86_400.0, max_keys: int = 100_000) -> None:
        self._clock = clock
        self._ttl_s = ttl_s
        self._max_keys = max_keys
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def begin(self, key: str, request_fingerprint: str) -> Outcome:
        """Claim ``key`` for this request, or say why not."""
        now = self._clock.now().timestamp()
        with self._lock:
            self._expire(now)
            entry = self._entries.get(key)
            if entry is None:
                self._entries[key] = _Entry(request_fingerprint, now, None)
                while len(self._entries) > self._max_keys:
                    self._entries.popitem(last=False)
                return Outcome("proceed")
            if entry.fingerprint != request_fingerprint:
                return Outcome("mismatch")
            if entry.response is None:
                return Outcome("in_flight")
            return Outcome("replay", entry.response)

    def complete(self, key: str, response: StoredResponse) -> None:
        """Keep the answer of the call that claimed ``key``."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                entry.response = response

    def release(self, key: str) -> None:
        """Forget a claim whose call ended in a server error, so a retry can run."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.response is None:
                del self._entries[key]

    def reset(self) -> None:
        with self._lock:
            self._entries.clear()

    def snapshot(self) -> list[dict[str, Any]]:
        """Finished entries as JSON-ready dicts (claims in flight are not worth keeping)."""
        with self._lock:
            return [
                {
                    "key": key,
                    "fingerprint": entry.fingerprint,
                    "created_at": entry.created_at,
                    "status": entry.response.status,
                    "headers": [list(pair) for pair in entry.response.headers],
                    "body": base64.b64encode(entry.response.body).decode("ascii"),
                    "record_id": entry.response.record_id,
                }
                for key, entry in self._entries.items()
                if entry.response is not None
            ]

    def restore(self, items: list[dict[str, Any]]) -> None:
        with self._lock:
            self._entries.clear()
            for item in items:
                response = StoredResponse(
                    status=int(item["status"]),
                    headers=tuple((str(name), str(value)) for name, value in item["headers"]),
                    body=base64.b64decode(item["body"]),
                    record_id=item.get("record_id"),
                )
                self._entries[str(item["key"])] = _Entry(
                    str(item["fingerprint"]), float(item["created_at"]), response
                )

    def _expire(self, now: float) -> None:
        while self._entries:
            key, entry = next(iter(self._entries.items()))
            if now - entry.created_at <= self._ttl_s:
                break
            del self._entries[key]
