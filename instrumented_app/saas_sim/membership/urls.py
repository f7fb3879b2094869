"""The member API's paths, mapped to the membership responses."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from instrumented_app.saas_sim.membership.exceptions import MembershipError
from instrumented_app.saas_sim.membership.models import MembershipBackend
from instrumented_app.saas_sim.membership.responses import MembershipResponses


def build_app(backend: MembershipBackend) -> Starlette:
    responses = MembershipResponses(backend)
    routes = [
        Route("/members", responses.list_members, methods=["GET"]),
        Route("/members", responses.create_member, methods=["POST"]),
        Route("/members/export", responses.export_members, methods=["GET"]),
        Route("/members/lookup", responses.lookup_members, methods=["GET"]),
        Route("/members/{member_id}", responses.show_member, methods=["GET"]),
        Route("/members/{member_id}", responses.update_member, methods=["PUT"]),
        Route("/members/{member_id}", responses.delete_member, methods=["DELETE"]),
    ]
    return Starlette(
        routes=routes, exception_handlers={MembershipError: _membership_error, HTTPException: _http_error}
    )


async def _membership_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, MembershipError)
    return JSONResponse(exc.body(), status_code=exc.status)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = (
        "not_found" if exc.status_code == 404 else "method_not_allowed" if exc.status_code == 405 else "error"
    )
    return JSONResponse(
        {"error": {"code": code, "message": str(exc.detail), "field": None}}, status_code=exc.status_code
    )
