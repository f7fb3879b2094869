"""``/_admin``: the operator's and the tests' handle on a simulator, never faulted or rate limited.

- ``GET /_admin/health``: up, and how many records it holds
- ``GET|PUT /_admin/faults``: the fault switch (``FaultConfig`` as JSON; a bad value -> 400 naming it)
- ``POST /_admin/reset``: empty storage, no faults, real time
- ``GET|PUT /_admin/clock``: ``{"now": "<ISO 8601>" | null}`` moves the clock records are stamped with
- ``GET /_admin/writes?record_id=&correlation_id=&limit=``: the write log
- ``POST /_admin/records``: ``{"records": [...]}`` bulk import with given timestamps, all or nothing
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from instrumented_app.saas_sim.faults import FaultConfig
from instrumented_app.saas_sim.records import LoadRejected
from instrumented_app.saas_sim.service import SimService


class RecordsPayload(BaseModel):
    """A bulk import: records in the service's own JSON shape, plus ``created_at``/``updated_at``."""

    model_config = ConfigDict(extra="forbid")

    records: list[Any] = Field(max_length=100_000)


class ClockSetting(BaseModel):
    """``now``: the time the clock should show from now on; null returns to real time."""

    model_config = ConfigDict(extra="forbid")

    now: AwareDatetime | None


def validation_problem(exc: ValidationError) -> dict[str, Any]:
    """A 400 body naming each bad field and what is wrong with it."""
    fields = {".".join(str(part) for part in err["loc"]) or "body": err["msg"] for err in exc.errors()}
    return {
        "error": "invalid request",
        "description": "; ".join(f"{name}: {message}" for name, message in fields.items()),
        "fields": fields,
    }


async def _json(request: Request) -> Any:
    raw = await request.body()
    return {} if not raw.strip() else json.loads(raw)


def build_admin_app(service: SimService) -> Starlette:
    """The admin endpoints of one service."""

    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"service": service.name, "status": "ok", "records": service.model.count()})

    async def get_faults(_: Request) -> JSONResponse:
        return JSONResponse(service.faults.config.model_dump())

    async def put_faults(request: Request) -> JSONResponse:
        try:
            config = FaultConfig.model_validate(await _json(request))
        except ValueError as exc:
            return _bad_request(exc)
        service.configure_faults(config)
        return JSONResponse(config.model_dump())

    async def reset(_: Request) -> JSONResponse:
        service.reset()
        return JSONResponse({"service": service.name, "reset": True})

    async def get_clock(_: Request) -> JSONResponse:
        return JSONResponse(_clock_body(service))

    async def put_clock(request: Request) -> JSONResponse:
        try:
            setting = ClockSetting.model_validate(await _json(request))
        except ValueError as exc:
            return _bad_request(exc)
        service.clock.set_now(setting.now)
        return JSONResponse(_clock_body(service))

    async def load_records(request: Request) -> JSONResponse:
        try:
            payload = RecordsPayload.model_validate(await _json(request))
            loaded = service.loader(payload.records)
        except LoadRejected as exc:
            return JSONResponse({"error": "invalid request", "description": str(exc)}, status_code=400)
        except ValueError as exc:
            return _bad_request(exc)
        return JSONResponse({"service": service.name, "loaded": loaded}, status_code=201)

    async def writes(request: Request) -> JSONResponse:
        params = request.query_params
        raw_limit = params.get("limit", "1000")
        if not raw_limit.isdigit():
            return JSONResponse(
                {
                    "error": "invalid request",
                    "description": f"limit: must be a whole number, got {raw_limit!r}",
                },
                status_code=400,
            )
        found = service.writes.find(
            record_id=params.get("record_id"),
            correlation_id=params.get("correlation_id"),
            limit=int(raw_limit),
        )
        return JSONResponse({"writes": [entry.model_dump() for entry in found]})

    return Starlette(
        routes=[
            Route("/_admin/health", health, methods=["GET"]),
            Route("/_admin/faults", get_faults, methods=["GET"]),
            Route("/_admin/faults", put_faults, methods=["PUT"]),
            Route("/_admin/reset", reset, methods=["POST"]),
            Route("/_admin/clock", get_clock, methods=["GET"]),
            Route("/_admin/clock", put_clock, methods=["PUT"]),
            Route("/_admin/writes", writes, methods=["GET"]),
            Route("/_admin/records", load_records, methods=["POST"]),
        ]
    )


def _clock_body(service: SimService) -> dict[str, Any]:
    now: datetime = service.clock.now()
    return {"now": now.isoformat(), "offset_s": service.clock.offset_s}


def _bad_request(exc: ValueError) -> JSONResponse:
    if isinstance(exc, ValidationError):
        return JSONResponse(validation_problem(exc), status_code=400)
    return JSONResponse(
        {
            "error": "invalid request",
            "description": f"body: not valid JSON ({exc})",
            "fields": {"body": str(exc)},
        },
        status_code=400,
    )
