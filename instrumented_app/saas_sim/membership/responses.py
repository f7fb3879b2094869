"""Plain REST for the membership backend: unwrapped JSON, ``next_cursor`` paging, errors as objects.

``GET /members?updated_since=<ISO 8601>&limit=<1..200>&cursor=<next_cursor>``
walks members in ``(updated_at, id)`` order; a cursor carries its filters on,
so a client only passes ``cursor`` (and may change ``limit``) after page one.
Rate limiting follows the IETF ``RateLimit-Limit``/``RateLimit-Remaining`` draft.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from instrumented_app.saas_sim.cursors import InvalidCursor, decode_cursor, encode_cursor
from instrumented_app.saas_sim.gateway import RECORD_ID_STATE
from instrumented_app.saas_sim.keyorder import read_export, read_keys
from instrumented_app.saas_sim.membership.exceptions import BadRequest
from instrumented_app.saas_sim.membership.models import Member, MembershipBackend
from instrumented_app.saas_sim.params import QueryError, int_param, read_json
from instrumented_app.saas_sim.ratelimit import BucketState
from instrumented_app.saas_sim.records import ImportStamps
from instrumented_app.saas_sim.service import ServiceShape

MAX_LIMIT = 200
DEFAULT_LIMIT = 50

_CODES = {409: "conflict", 413: "too_large", 422: "idempotency_key_reused", 429: "rate_limited"}


def _error_body(status: int, message: str) -> dict[str, Any]:
    code = _CODES.get(status, "unavailable" if status == 503 else "internal" if status >= 500 else "error")
    return {"error": {"code": code, "message": message, "field": None}}


def _limit_headers(bucket: BucketState) -> dict[str, str]:
    return {"RateLimit-Limit": str(bucket.capacity), "RateLimit-Remaining": str(bucket.remaining)}


SHAPE = ServiceShape(error_body=_error_body, limit_headers=_limit_headers)


class MemberInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member_no: str | None = None
    full_name: str | None = None
    email: str | None = None
    phone: str | None = None
    status: str | None = None


class MemberImport(MemberInput, ImportStamps):
    """One member of a bulk import (``POST /_admin/records``)."""


def iso_millis(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class MembershipResponses:
    def __init__(self, backend: MembershipBackend) -> None:
        self.backend = backend

    async def create_member(self, request: Request) -> JSONResponse:
        member = self.backend.create_member(await _member_fields(request))
        setattr(request.state, RECORD_ID_STATE, member.id)
        return JSONResponse(_member_json(member), status_code=201)

    async def show_member(self, request: Request) -> JSONResponse:
        return JSONResponse(_member_json(self.backend.get_member(request.path_params["member_id"])))

    async def update_member(self, request: Request) -> JSONResponse:
        member_id = request.path_params["member_id"]
        setattr(request.state, RECORD_ID_STATE, member_id)
        member = self.backend.update_member(member_id, await _member_fields(request))
        return JSONResponse(_member_json(member))

    async def delete_member(self, request: Request) -> Response:
        member_id = request.path_params["member_id"]
        setattr(request.state, RECORD_ID_STATE, member_id)
        self.backend.delete_member(member_id)
        return Response(status_code=204)

    async def list_members(self, request: Request) -> JSONResponse:
        params = request.query_params
        try:
            limit = int_param(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
        except QueryError as exc:
            raise BadRequest(str(exc), "limit") from exc
        after: tuple[datetime, str] | None = None
        if params.get("cursor"):
            try:
                position = decode_cursor(params["cursor"], ("t", "id", "since", "no"))
            except InvalidCursor as exc:
                raise BadRequest(f"cursor: {exc}", "cursor") from exc
            after = (_time(position["t"], "cursor") or datetime.min.replace(tzinfo=UTC), str(position["id"]))
            updated_since, member_no = _time(position["since"], "cursor"), position["no"]
        else:
            updated_since, member_no = (
                _time(params.get("updated_since"), "updated_since"),
                params.get("member_no"),
            )
        members, has_more = self.backend.list_page(limit, updated_since, after, member_no)
        next_cursor = None
        if has_more:
            last = members[-1]
            next_cursor = encode_cursor(
                {
                    "t": last.updated_at.isoformat(),
                    "id": last.id,
                    "since": None if updated_since is None else updated_since.isoformat(),
                    "no": member_no,
                }
            )
        return JSONResponse({"members": [_member_json(m) for m in members], "next_cursor": next_cursor})

    async def export_members(self, request: Request) -> JSONResponse:
        """``GET /members/export?limit=<1..5000>&key_gte=&key_lt=`` then ``cursor=<next_cursor>``.

        Members in ``member_no`` order (trimmed, upper-cased), for bulk reads (``saas_sim.keyorder``).
        """
        try:
            position = read_export(
                request.query_params, cursor_param="cursor", limit_param="limit", id_type=str
            )
        except QueryError as exc:
            raise BadRequest(str(exc), str(exc).split(":", 1)[0]) from exc
        members, has_more = self.backend.export_page(
            position.limit, position.key_gte, position.key_lt, position.after
        )
        next_cursor = position.next_cursor(members[-1].member_no, members[-1].id) if has_more else None
        return JSONResponse({"members": [_member_json(m) for m in members], "next_cursor": next_cursor})

    async def lookup_members(self, request: Request) -> JSONResponse:
        """``GET /members/lookup?member_nos=A,B`` (at most 100): every member holding one of them."""
        try:
            member_nos = read_keys(request.query_params, "member_nos")
        except QueryError as exc:
            raise BadRequest(str(exc), "member_nos") from exc
        members = self.backend.with_member_nos(member_nos)
        return JSONResponse({"members": [_member_json(m) for m in members]})


async def _member_fields(request: Request) -> dict[str, str | None]:
    try:
        member = MemberInput.model_validate(await read_json(request))
    except QueryError as exc:
        raise BadRequest(str(exc), "body") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        raise BadRequest(f"{field}: {first['msg']}", field) from exc
    return member.model_dump(exclude_unset=True)


def _time(raw: str | None, name: str) -> datetime | None:
    if raw is None or raw == "":
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadRequest(f"{name}: must be an ISO 8601 time, got {raw[:40]!r}", name) from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _member_json(member: Member) -> dict[str, Any]:
    return {
        "id": member.id,
        "member_no": member.member_no,
        "full_name": member.full_name,
        "email": member.email,
        "phone": member.phone,
        "status": member.status,
        "created_at": iso_millis(member.created_at),
        "updated_at": iso_millis(member.updated_at),
    }
