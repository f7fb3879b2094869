"""The support desk simulator, shaped after Zendesk's Users API (``/api/v2/users``)."""

from __future__ import annotations

from instrumented_app.saas_sim.clock import SimClock
from instrumented_app.saas_sim.records import make_loader
from instrumented_app.saas_sim.service import SimService
from instrumented_app.saas_sim.support.models import SupportBackend
from instrumented_app.saas_sim.support.responses import SHAPE, UserImport
from instrumented_app.saas_sim.support.urls import build_app

NAME = "support"


def create_service(clock: SimClock | None = None) -> SimService:
    """A support simulator with empty storage."""
    clock = clock or SimClock()
    backend = SupportBackend(clock)
    return SimService(
        name=NAME,
        model=backend,
        clock=clock,
        shape=SHAPE,
        inner_app=build_app(backend),
        loader=make_loader(UserImport, backend.load),
    )
