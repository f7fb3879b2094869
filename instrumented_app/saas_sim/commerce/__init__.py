"""The commerce simulator, shaped after Shopify's REST Admin API for customers."""

from __future__ import annotations

from instrumented_app.saas_sim.clock import SimClock
from instrumented_app.saas_sim.commerce.models import CommerceBackend
from instrumented_app.saas_sim.commerce.responses import SHAPE, CustomerImport
from instrumented_app.saas_sim.commerce.urls import build_app
from instrumented_app.saas_sim.records import make_loader
from instrumented_app.saas_sim.service import SimService

NAME = "commerce"


def create_service(clock: SimClock | None = None) -> SimService:
    """A commerce simulator with no customers."""
    clock = clock or SimClock()
    backend = CommerceBackend(clock)
    return SimService(
        name=NAME,
        model=backend,
        clock=clock,
        shape=SHAPE,
        inner_app=build_app(backend),
        loader=make_loader(CustomerImport, backend.load),
    )
