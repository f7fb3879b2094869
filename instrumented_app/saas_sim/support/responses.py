"""Zendesk-shaped HTTP for the support backend: JSON in, model call, JSON out.

Bodies are wrapped (``{"user": {...}}``); timestamps are ISO 8601 in UTC
with a ``Z``; lists use Zendesk's cursor pagination (``page[size]`` up to 100,
``page[after]``, ``meta.has_more``/``meta.after_cursor``, ``links.next``) or,
without ``page[size]``, its offset pagination; the incremental export is the
cursor-based one (``start_time`` first, then ``cursor``), with
``end_of_stream`` and an ``after_cursor`` to poll from later.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from starlette.requests import Request
from starlette.responses import JSONResponse

from instrumented_app.saas_sim.cursors import InvalidCursor, decode_cursor, encode_cursor
from instrumented_app.saas_sim.gateway import RECORD_ID_STATE
from instrumented_app.saas_sim.keyorder import read_export
from instrumented_app.saas_sim.params import QueryError, int_param, read_json
from instrumented_app.saas_sim.ratelimit import BucketState
from instrumented_app.saas_sim.records import ImportStamps
from instrumented_app.saas_sim.service import ServiceShape
from instrumented_app.saas_sim.support.exceptions import InvalidParameter
from instrumented_app.saas_sim.support.models import SupportBackend, User

MAX_PAGE_SIZE = 100
MAX_EXPORT_PAGE = 1000

_ERROR_CODES = {
    409: "Conflict",
    413: "RequestTooLarge",
    422: "IdempotentRequestError",
    429: "TooManyRequests",
    500: "InternalServerError",
    503: "ServiceUnavailable",
}


def _error_body(status: int, message: str) -> dict[str, Any]:
    return {"error": _ERROR_CODES.get(status, "Error"), "description": message}


def _limit_headers(bucket: BucketState) -> dict[str, str]:
    return {"X-Rate-Limit": str(bucket.capacity), "X-Rate-Limit-Remaining": str(bucket.remaining)}


#: Zendesk counts a budget per minute: by default the bucket holds one minute's worth of calls.
SHAPE = ServiceShape(
    error_body=_error_body,
    limit_headers=_limit_headers,
    default_burst=lambda rate: max(1, math.ceil(rate * 60)),
)


class UserInput(BaseModel):
    """The writable fields of a user; unknown fields are ignored, as Zendesk ignores them."""

    model_config = ConfigDict(extra="ignore")

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    external_id: str | None = None

    @field_validator("external_id", mode="before")
    @classmethod
    def _number_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class UserImport(UserInput, ImportStamps):
    """One user of a bulk import (``POST /_admin/records``): the writable fields, timestamps, ``active``."""

    model_config = ConfigDict(extra="forbid")

    active: bool = True


class UserEnvelope(BaseModel):
    user: UserInput


def zendesk_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SupportResponses:
    """One method per endpoint; each turns the request into a backend call and back."""

    def __init__(self, backend: SupportBackend) -> None:
        self.backend = backend

    async def create_user(self, request: Request) -> JSONResponse:
        user = self.backend.create_user(await _user_fields(request))
        setattr(request.state, RECORD_ID_STATE, user.id)
        return JSONResponse({"user": _user_json(request, user)}, status_code=201)

    async def show_user(self, request: Request) -> JSONResponse:
        user = self.backend.get_user(request.path_params["user_id"])
        return JSONResponse({"user": _user_json(request, user)})

    async def update_user(self, request: Request) -> JSONResponse:
        user_id = request.path_params["user_id"]
        setattr(request.state, RECORD_ID_STATE, user_id)
        user = self.backend.update_user(user_id, await _user_fields(request))
        return JSONResponse({"user": _user_json(request, user)})

    async def delete_user(self, request: Request) -> JSONResponse:
        user_id = request.path_params["user_id"]
        setattr(request.state, RECORD_ID_STATE, user_id)
        user = self.backend.delete_user(user_id)
        return JSONResponse({"user": _user_json(request, user)})

    async def create_or_update_user(self, request: Request) -> JSONResponse:
        user, created = self.backend.create_or_update(await _user_fields(request))
        setattr(request.state, RECORD_ID_STATE, user.id)
        return JSONResponse({"user": _user_json(request, user)}, status_code=201 if created else 200)

    async def list_users(self, request: Request) -> JSONResponse:
        params = request.query_params
        if "page[size]" not in params:
            return self._offset_page(request)
        size = _int(params, "page[size]", default=MAX_PAGE_SIZE, low=1, high=MAX_PAGE_SIZE)
        after_id = _cursor_id(params, "page[after]")
        before_id = _cursor_id(params, "page[before]")
        window = self.backend.list_window(size, after_id=after_id, before_id=before_id)
        users = window.items
        after_cursor = encode_cursor({"id": users[-1].id}) if users else None
        before_cursor = encode_cursor({"id": users[0].id}) if users else None
        base = request.url.remove_query_params(["page[after]", "page[before]"])
        next_link = prev_link = None
        if window.has_after and after_cursor:
            next_link = str(base.include_query_params(**{"page[size]": size, "page[after]": after_cursor}))
        if window.has_before and before_cursor:
            prev_link = str(base.include_query_params(**{"page[size]": size, "page[before]": before_cursor}))
        # has_more looks the way the client is walking: backwards after page[before], else forwards.
        has_more = window.has_before if before_id is not None else window.has_after
        return JSONResponse(
            {
                "users": [_user_json(request, user) for user in users],
                "meta": {"has_more": has_more, "after_cursor": after_cursor, "before_cursor": before_cursor},
                "links": {"next": next_link, "prev": prev_link},
            }
        )

    async def export_users_by_key(self, request: Request) -> JSONResponse:
        """``GET /api/v2/users/export.json?page[size]=<1..5000>&key_gte=&key_lt=``, then ``page[after]``.

        Active users in ``external_id`` order (trimmed, upper-cased), for bulk reads (``saas_sim.keyorder``).
        """
        try:
            position = read_export(
                request.query_params, cursor_param="page[after]", limit_param="page[size]", id_type=int
            )
        except QueryError as exc:
            raise InvalidParameter(str(exc)) from exc
        users, has_more = self.backend.export_page(
            position.limit, position.key_gte, position.key_lt, position.after
        )
        after_cursor = position.next_cursor(users[-1].external_id, users[-1].id) if has_more else None
        return JSONResponse(
            {
                "users": [_user_json(request, user) for user in users],
                "meta": {"has_more": has_more, "after_cursor": after_cursor},
            }
        )

    async def show_many_users(self, request: Request) -> JSONResponse:
        """``?ids=1,2`` or ``?external_ids=a,b``, at most 100 values, as Zendesk allows."""
        params = request.query_params
        if params.get("ids"):
            raw = [value.strip() for value in params["ids"].split(",")]
            if not all(value.isdigit() for value in raw):
                raise InvalidParameter(
                    f"ids: must be user ids separated by commas, got {params['ids'][:60]!r}"
                )
            users = self.backend.get_many(ids=[int(value) for value in raw[:MAX_PAGE_SIZE]])
        elif params.get("external_ids"):
            external_ids = [value.strip() for value in params["external_ids"].split(",")][:MAX_PAGE_SIZE]
            users = self.backend.get_many(external_ids=external_ids)
        else:
            raise InvalidParameter("ids or external_ids: one of them is required")
        return JSONResponse({"users": [_user_json(request, user) for user in users]})

    async def search_users(self, request: Request) -> JSONResponse:
        params = request.query_params
        query = params.get("query")
        email = query.removeprefix("email:") if query else None
        users = self.backend.search(external_id=params.get("external_id"), email=email)
        return JSONResponse(
            {"users": [_user_json(request, user) for user in users], "next_page": None, "count": len(users)}
        )

    async def export_users(self, request: Request) -> JSONResponse:
        params = request.query_params
        per_page = _int(params, "per_page", default=MAX_EXPORT_PAGE, low=1, high=MAX_EXPORT_PAGE)
        if params.get("cursor"):
            after_seq = int(_cursor(params["cursor"], "cursor", ("seq",))["seq"])
            page = self.backend.export(None, after_seq, per_page)
        elif "start_time" in params:
            start = _int(params, "start_time", default=0, low=0, high=2**40)
            page = self.backend.export(datetime.fromtimestamp(start, UTC), 0, per_page)
        else:
            raise InvalidParameter("start_time: required (a Unix time) unless cursor is given")
        after_cursor = encode_cursor({"seq": page.last_seq})
        base = request.url.remove_query_params(["start_time", "cursor"])
        return JSONResponse(
            {
                "users": [_user_json(request, user) for user in page.users],
                "after_cursor": after_cursor,
                "after_url": str(base.include_query_params(cursor=after_cursor)),
                "before_cursor": None,
                "before_url": None,
                "end_of_stream": page.end_of_stream,
            }
        )

    def _offset_page(self, request: Request) -> JSONResponse:
        """Zendesk's older offset pagination (``page``, ``per_page``), kept for clients that use it."""
        params = request.query_params
        per_page = _int(params, "per_page", default=MAX_PAGE_SIZE, low=1, high=MAX_PAGE_SIZE)
        page = _int(params, "page", default=1, low=1, high=100_000)
        everyone = self.backend.list_window(10**9).items
        chunk = everyone[(page - 1) * per_page : page * per_page]
        has_next = page * per_page < len(everyone)
        return JSONResponse(
            {
                "users": [_user_json(request, user) for user in chunk],
                "next_page": str(request.url.include_query_params(page=page + 1)) if has_next else None,
                "previous_page": str(request.url.include_query_params(page=page - 1)) if page > 1 else None,
                "count": len(everyone),
            }
        )


async def _user_fields(request: Request) -> dict[str, str | None]:
    try:
        envelope = UserEnvelope.model_validate(await read_json(request))
    except QueryError as exc:
        raise InvalidParameter(str(exc)) from exc
    except ValidationError as exc:
        raise InvalidParameter(_describe(exc)) from exc
    return envelope.user.model_dump(exclude_unset=True)


def _describe(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in err['loc']) or 'body'}: {err['msg']}" for err in exc.errors()
    )


def _int(params: Any, name: str, default: int, low: int, high: int) -> int:
    try:
        return int_param(params, name, default, low, high)
    except QueryError as exc:
        raise InvalidParameter(str(exc)) from exc


def _cursor_id(params: Any, name: str) -> int | None:
    token = params.get(name)
    return int(_cursor(token, name, ("id",))["id"]) if token else None


def _cursor(token: str, name: str, required: tuple[str, ...]) -> dict[str, Any]:
    try:
        return decode_cursor(token, required)
    except InvalidCursor as exc:
        raise InvalidParameter(f"{name}: {exc}") from exc


def _user_json(request: Request, user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "url": str(request.base_url).rstrip("/") + f"/api/v2/users/{user.id}.json",
        "name": user.name,
        "email": user.email,
        "phone": user.phone,
        "external_id": user.external_id,
        "role": "end-user",
        "active": user.active,
        "created_at": zendesk_time(user.created_at),
        "updated_at": zendesk_time(user.updated_at),
    }
