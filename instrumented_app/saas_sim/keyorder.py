"""Bulk export in link-key order and many-key lookups: the parameters every simulator reads alike.

A real SaaS offers a bulk path beside its page-by-page API (Zendesk's
incremental exports, Shopify's bulk operations, a warehouse export), and
lookups of many records in one call (Zendesk's ``show_many``). The
simulators add one of each for the link field (``external_id``,
``multipass_identifier``, ``member_no``):

* an **export** ordered by ``(link key, id)``, where the link key is the
  field trimmed and upper-cased (``table.link_key``), pages of up to
  ``MAX_EXPORT_LIMIT``, an opaque keyset cursor that carries the filters,
  and an optional key range ``key_gte`` (inclusive) / ``key_lt`` (exclusive),
  so a reconciler merge-joins it without sorting and a Distributed Map item
  reads only its range;
* a **lookup** of up to ``MAX_LOOKUP_KEYS`` link keys, comma-separated.

Each vendor wraps ``QueryError`` (whose message starts with the parameter's
name) in its own 400 body.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from instrumented_app.saas_sim.cursors import InvalidCursor, decode_cursor, encode_cursor
from instrumented_app.saas_sim.params import QueryError, int_param
from instrumented_app.saas_sim.table import link_key

MAX_EXPORT_LIMIT = 5_000
DEFAULT_EXPORT_LIMIT = 1_000
MAX_LOOKUP_KEYS = 100
MAX_KEY_LENGTH = 255

IdT = TypeVar("IdT", int, str)


@dataclass(frozen=True)
class ExportPosition(Generic[IdT]):
    """Where one export page starts: the filters, and the last ``(key, id)`` already sent."""

    limit: int
    key_gte: str | None
    key_lt: str | None
    after: tuple[str, IdT] | None

    def next_cursor(self, last_key: str | None, last_id: IdT) -> str:
        """The opaque cursor of the page after one that ended on ``(link_key(last_key), last_id)``."""
        return encode_cursor({"k": link_key(last_key), "id": last_id, "gte": self.key_gte, "lt": self.key_lt})


def read_export(
    params: Mapping[str, str], *, cursor_param: str, limit_param: str, id_type: type[IdT]
) -> ExportPosition[IdT]:
    """The export position a request asks for; a cursor excludes the filters (it carries them)."""
    limit = int_param(params, limit_param, DEFAULT_EXPORT_LIMIT, 1, MAX_EXPORT_LIMIT)
    token = params.get(cursor_param)
    if token:
        clashing = sorted({"key_gte", "key_lt"} & {name for name, value in params.items() if value})
        if clashing:
            raise QueryError(f"{cursor_param}: cannot be combined with {', '.join(clashing)}")
        try:
            position = decode_cursor(token, ("k", "id", "gte", "lt"))
        except InvalidCursor as exc:
            raise QueryError(f"{cursor_param}: {exc}") from exc
        key, last_id = position["k"], position["id"]
        if not isinstance(key, str) or not isinstance(last_id, id_type):
            raise QueryError(f"{cursor_param}: cursor {token[:40]!r} is not one this server issued")
        return ExportPosition(limit, _opt_str(position["gte"]), _opt_str(position["lt"]), (key, last_id))
    key_gte, key_lt = _key_param(params, "key_gte"), _key_param(params, "key_lt")
    if key_gte is not None and key_lt is not None and key_lt <= key_gte:
        raise QueryError(f"key_lt: must sort after key_gte ({key_gte!r}), got {key_lt!r}")
    return ExportPosition(limit, key_gte, key_lt, None)


def read_keys(params: Mapping[str, str], name: str) -> list[str]:
    """``params[name]``: 1 to ``MAX_LOOKUP_KEYS`` comma-separated link keys, none empty or overlong."""
    raw = params.get(name)
    if raw is None or not raw.strip():
        raise QueryError(f"{name}: required, up to {MAX_LOOKUP_KEYS} values separated by commas")
    values = [value.strip() for value in raw.split(",")]
    if len(values) > MAX_LOOKUP_KEYS:
        raise QueryError(f"{name}: at most {MAX_LOOKUP_KEYS} values, got {len(values)}")
    for value in values:
        if not value or len(value) > MAX_KEY_LENGTH:
            raise QueryError(
                f"{name}: each value must be 1 to {MAX_KEY_LENGTH} characters, got {value[:40]!r}"
            )
    return values


def _key_param(params: Mapping[str, str], name: str) -> str | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if len(raw) > MAX_KEY_LENGTH:
        raise QueryError(f"{name}: at most {MAX_KEY_LENGTH} characters, got {len(raw)}")
    return link_key(raw)


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None
