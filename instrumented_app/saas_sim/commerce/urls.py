"""Shopify's REST paths for customers (any ``YYYY-MM`` API version), mapped to the responses."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from instrumented_app.saas_sim.commerce.exceptions import CommerceError
from instrumented_app.saas_sim.commerce.models import CommerceBackend
from instrumented_app.saas_sim.commerce.responses import CommerceResponses

PREFIX = "/admin/api/{version}"


def build_app(backend: CommerceBackend) -> Starlette:
    responses = CommerceResponses(backend)
    routes = [
        Route(f"{PREFIX}/customers.json", responses.list_customers, methods=["GET"]),
        Route(f"{PREFIX}/customers.json", responses.create_customer, methods=["POST"]),
        Route(f"{PREFIX}/customers/count.json", responses.count_customers, methods=["GET"]),
        Route(f"{PREFIX}/customers/search.json", responses.search_customers, methods=["GET"]),
        Route(f"{PREFIX}/customers/export.json", responses.export_customers, methods=["GET"]),
        Route(f"{PREFIX}/customers/lookup.json", responses.lookup_customers, methods=["GET"]),
        Route(f"{PREFIX}/customers/{{customer_id:int}}.json", responses.show_customer, methods=["GET"]),
        Route(f"{PREFIX}/customers/{{customer_id:int}}.json", responses.update_customer, methods=["PUT"]),
        Route(f"{PREFIX}/customers/{{customer_id:int}}.json", responses.delete_customer, methods=["DELETE"]),
    ]
    return Starlette(
        routes=routes, exception_handlers={CommerceError: _commerce_error, HTTPException: _http_error}
    )


async def _commerce_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CommerceError)
    return JSONResponse(exc.body(), status_code=exc.status)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    message = "Not Found" if exc.status_code == 404 else exc.detail
    return JSONResponse({"errors": message}, status_code=exc.status_code)
