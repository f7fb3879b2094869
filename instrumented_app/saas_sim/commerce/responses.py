"""Shopify-shaped HTTP for the commerce backend.

Bodies are wrapped (``{"customer": {...}}``); lists page by cursor through
the ``Link`` header (``<...?limit=N&page_info=...>; rel="next"``), with
``limit`` up to 250 and, on the first page only, ``since_id`` and
``updated_at_min`` (a ``page_info`` carries the filters on, as Shopify's
does, so they may not be given beside it). Every answer carries
``X-Shopify-Shop-Api-Call-Limit`` when a rate limit is set (bucket 40 unless
the fault config says otherwise).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from starlette.requests import Request
from starlette.responses import JSONResponse

from instrumented_app.saas_sim.commerce.exceptions import BadRequest, CommerceError, NotFound
from instrumented_app.saas_sim.commerce.models import CommerceBackend, Customer
from instrumented_app.saas_sim.cursors import InvalidCursor, decode_cursor, encode_cursor
from instrumented_app.saas_sim.gateway import RECORD_ID_STATE
from instrumented_app.saas_sim.keyorder import read_export, read_keys
from instrumented_app.saas_sim.params import QueryError, int_param, read_json
from instrumented_app.saas_sim.ratelimit import BucketState
from instrumented_app.saas_sim.records import ImportStamps
from instrumented_app.saas_sim.service import ServiceShape

MAX_LIMIT = 250
DEFAULT_LIMIT = 50
SHOPIFY_BUCKET = 40
_VERSION = re.compile(r"^\d{4}-\d{2}$|^unstable$")


def _error_body(status: int, message: str) -> dict[str, Any]:
    return {"errors": message}


def _limit_headers(bucket: BucketState) -> dict[str, str]:
    return {"X-Shopify-Shop-Api-Call-Limit": f"{bucket.used}/{bucket.capacity}"}


def _retry_after(seconds: float) -> str:
    """Shopify sends seconds with one decimal (``2.0``); rounded up so waiting that long is enough."""
    return f"{max(0.1, math.ceil(seconds * 10) / 10):.1f}"


SHAPE = ServiceShape(
    error_body=_error_body,
    limit_headers=_limit_headers,
    retry_after=_retry_after,
    default_burst=lambda _rate: SHOPIFY_BUCKET,
)


class CustomerInput(BaseModel):
    """The writable fields of a customer; Shopify ignores fields it does not know."""

    model_config = ConfigDict(extra="ignore")

    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    multipass_identifier: str | None = None
    note: str | None = None
    tags: str | None = None

    @field_validator("tags", mode="before")
    @classmethod
    def _tags_as_text(cls, value: object) -> object:
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return ", ".join(value)
        return value


class CustomerImport(CustomerInput, ImportStamps):
    """One customer of a bulk import (``POST /_admin/records``)."""

    model_config = ConfigDict(extra="forbid")


class CustomerEnvelope(BaseModel):
    customer: CustomerInput


def shopify_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


class CommerceResponses:
    def __init__(self, backend: CommerceBackend) -> None:
        self.backend = backend

    async def create_customer(self, request: Request) -> JSONResponse:
        _check_version(request)
        customer = self.backend.create_customer(await _customer_fields(request))
        setattr(request.state, RECORD_ID_STATE, customer.id)
        return JSONResponse({"customer": _customer_json(customer)}, status_code=201)

    async def show_customer(self, request: Request) -> JSONResponse:
        _check_version(request)
        customer = self.backend.get_customer(request.path_params["customer_id"])
        return JSONResponse({"customer": _customer_json(customer)})

    async def update_customer(self, request: Request) -> JSONResponse:
        _check_version(request)
        customer_id = request.path_params["customer_id"]
        setattr(request.state, RECORD_ID_STATE, customer_id)
        customer = self.backend.update_customer(customer_id, await _customer_fields(request))
        return JSONResponse({"customer": _customer_json(customer)})

    async def delete_customer(self, request: Request) -> JSONResponse:
        _check_version(request)
        customer_id = request.path_params["customer_id"]
        setattr(request.state, RECORD_ID_STATE, customer_id)
        self.backend.delete_customer(customer_id)
        return JSONResponse({})

    async def count_customers(self, request: Request) -> JSONResponse:
        _check_version(request)
        return JSONResponse({"count": self.backend.count()})

    async def search_customers(self, request: Request) -> JSONResponse:
        """``query=email:<address>`` (or ``phone:``, ``multipass_identifier:``)."""
        _check_version(request)
        query = request.query_params.get("query", "")
        field, _, value = query.partition(":")
        if field not in {"email", "phone", "multipass_identifier"} or not value:
            raise BadRequest("query", "must be email:<value>, phone:<value> or multipass_identifier:<value>")
        found = self.backend.search(field, value.strip())
        return JSONResponse({"customers": [_customer_json(customer) for customer in found]})

    async def list_customers(self, request: Request) -> JSONResponse:
        _check_version(request)
        params = request.query_params
        limit = _limit(params)
        if params.get("page_info"):
            clashing = sorted(set(params) - {"page_info", "limit", "fields"})
            if clashing:
                raise BadRequest("page_info", f"cannot be combined with {', '.join(clashing)}")
            position = _position(params["page_info"])
        else:
            since_id = _since_id(params.get("since_id"))
            updated_at_min = _time_param(params.get("updated_at_min"), "updated_at_min")
            position = _Position(floor=since_id, updated_at_min=updated_at_min, after=since_id)
        window = self.backend.list_window(
            limit, position.updated_at_min, position.floor, after_id=position.after, before_id=position.before
        )
        links = []
        base = request.url.replace(query="")
        if window.has_before:
            page_info = position.toward(before=window.items[0].id)
            links.append(f'<{base.include_query_params(limit=limit, page_info=page_info)}>; rel="previous"')
        if window.has_after:
            page_info = position.toward(after=window.items[-1].id)
            links.append(f'<{base.include_query_params(limit=limit, page_info=page_info)}>; rel="next"')
        headers = {"Link": ", ".join(links)} if links else {}
        return JSONResponse({"customers": [_customer_json(c) for c in window.items]}, headers=headers)

    async def export_customers(self, request: Request) -> JSONResponse:
        """``GET .../customers/export.json?limit=<1..5000>&key_gte=&key_lt=``, then the ``rel="next"`` link.

        Customers in ``multipass_identifier`` order (trimmed, upper-cased), for bulk reads
        (``saas_sim.keyorder``); ``page_info`` carries the range on.
        """
        _check_version(request)
        params = request.query_params
        try:
            position = read_export(params, cursor_param="page_info", limit_param="limit", id_type=int)
        except QueryError as exc:
            raise BadRequest(str(exc).split(":", 1)[0], str(exc)) from exc
        customers, has_more = self.backend.export_page(
            position.limit, position.key_gte, position.key_lt, position.after
        )
        headers = {}
        if has_more:
            last = customers[-1]
            page_info = position.next_cursor(last.multipass_identifier, last.id)
            base = request.url.replace(query="")
            next_url = base.include_query_params(limit=position.limit, page_info=page_info)
            headers["Link"] = f'<{next_url}>; rel="next"'
        return JSONResponse({"customers": [_customer_json(c) for c in customers]}, headers=headers)

    async def lookup_customers(self, request: Request) -> JSONResponse:
        """``GET .../customers/lookup.json?multipass_identifiers=A,B`` (at most 100): every holder."""
        _check_version(request)
        try:
            identifiers = read_keys(request.query_params, "multipass_identifiers")
        except QueryError as exc:
            raise BadRequest("multipass_identifiers", str(exc)) from exc
        customers = self.backend.with_identifiers(identifiers)
        return JSONResponse({"customers": [_customer_json(c) for c in customers]})


async def _customer_fields(request: Request) -> dict[str, str | None]:
    try:
        envelope = CustomerEnvelope.model_validate(await read_json(request))
    except QueryError as exc:
        raise BadRequest("customer", f"Required parameter missing or invalid ({exc})") from exc
    except ValidationError as exc:
        problems: dict[str, list[str]] = {}
        for err in exc.errors():
            field = str(err["loc"][-1]) if err["loc"] else "customer"
            problems.setdefault(field, []).append(err["msg"])
        raise CommerceError(problems) from exc
    return envelope.customer.model_dump(exclude_unset=True)


def _check_version(request: Request) -> None:
    if not _VERSION.match(request.path_params["version"]):
        raise NotFound()


def _limit(params: Any) -> int:
    try:
        return int_param(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    except QueryError as exc:
        raise BadRequest("limit", str(exc).removeprefix("limit: ")) from exc


def _since_id(raw: str | None) -> int:
    if raw is None or raw == "":
        return 0
    if not raw.isdigit():
        raise BadRequest("since_id", f"must be a customer id, got {raw[:40]!r}")
    return int(raw)


def _time_param(raw: str | None, name: str) -> datetime | None:
    if raw is None or raw == "":
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadRequest(name, f"must be an ISO 8601 time, got {raw[:40]!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class _Position:
    """Where a page starts, with the first page's filters, which every ``page_info`` carries on."""

    floor: int
    updated_at_min: datetime | None
    after: int | None = None
    before: int | None = None

    def toward(self, after: int | None = None, before: int | None = None) -> str:
        """The ``page_info`` of the page just after or just before a customer id."""
        minimum = None if self.updated_at_min is None else self.updated_at_min.isoformat()
        return encode_cursor({"floor": self.floor, "min": minimum, "after": after, "before": before})


def _position(page_info: str) -> _Position:
    try:
        raw = decode_cursor(page_info, ("floor", "min", "after", "before"))
        after, before = raw["after"], raw["before"]
        return _Position(
            floor=int(raw["floor"]),
            updated_at_min=_time_param(raw["min"], "page_info"),
            after=None if after is None else int(after),
            before=None if before is None else int(before),
        )
    except (InvalidCursor, TypeError, ValueError) as exc:
        raise BadRequest("page_info", f"is not one this server issued ({exc})") from exc


def _customer_json(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.id,
        "email": customer.email,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "phone": customer.phone,
        "multipass_identifier": customer.multipass_identifier,
        "note": customer.note,
        "tags": customer.tags,
        "state": "disabled",
        "verified_email": False,
        "created_at": shopify_time(customer.created_at),
        "updated_at": shopify_time(customer.updated_at),
        "admin_graphql_api_id": f"gid://shopify/Customer/{customer.id}",
    }
