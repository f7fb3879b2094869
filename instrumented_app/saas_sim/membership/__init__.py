"""The membership simulator: a plain REST member API (``/members``)."""

from __future__ import annotations

from instrumented_app.saas_sim.clock import SimClock
from instrumented_app.saas_sim.membership.models import MembershipBackend
from instrumented_app.saas_sim.membership.responses import SHAPE, MemberImport
from instrumented_app.saas_sim.membership.urls import build_app
from instrumented_app.saas_sim.records import make_loader
from instrumented_app.saas_sim.service import SimService

NAME = "membership"


def create_service(clock: SimClock | None = None) -> SimService:
    """A membership simulator with no members."""
    clock = clock or SimClock()
    backend = MembershipBackend(clock)
    return SimService(
        name=NAME,
        model=backend,
        clock=clock,
        shape=SHAPE,
        inner_app=build_app(backend),
        loader=make_loader(MemberImport, backend.load),
    )
