"""Zendesk's paths for users, mapped to the support responses (the literal paths come first)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from instrumented_app.saas_sim.support.exceptions import SupportError
from instrumented_app.saas_sim.support.models import SupportBackend
from instrumented_app.saas_sim.support.responses import SupportResponses


def build_app(backend: SupportBackend) -> Starlette:
    responses = SupportResponses(backend)
    routes = [
        Route("/api/v2/users.json", responses.list_users, methods=["GET"]),
        Route("/api/v2/users.json", responses.create_user, methods=["POST"]),
        Route("/api/v2/users/create_or_update.json", responses.create_or_update_user, methods=["POST"]),
        Route("/api/v2/users/search.json", responses.search_users, methods=["GET"]),
        Route("/api/v2/users/show_many.json", responses.show_many_users, methods=["GET"]),
        Route("/api/v2/users/export.json", responses.export_users_by_key, methods=["GET"]),
        Route("/api/v2/users/{user_id:int}.json", responses.show_user, methods=["GET"]),
        Route("/api/v2/users/{user_id:int}.json", responses.update_user, methods=["PUT"]),
        Route("/api/v2/users/{user_id:int}.json", responses.delete_user, methods=["DELETE"]),
        Route("/api/v2/incremental/users/cursor.json", responses.export_users, methods=["GET"]),
    ]
    return Starlette(
        routes=routes,
        exception_handlers={SupportError: _support_error, HTTPException: _http_error},
    )


async def _support_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SupportError)
    return JSONResponse(exc.body(), status_code=exc.status)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return JSONResponse({"error": "InvalidEndpoint", "description": "Not found"}, status_code=404)
    return JSONResponse({"error": "InvalidEndpoint", "description": exc.detail}, status_code=exc.status_code)
