"""What a run sends: one ``PlannedSaga`` per customer creation, decided from a seed, index by index.

Pure: the same arguments give the same plan, so a run can be repeated. Each
saga is drawn from its own random source (seed, run id and index), so a plan
of unknown length (``sagawatch traffic --duration``) is produced lazily and
its first N sagas equal a plan of N. Every saga gets its own ``cust_no``,
email and phone (commerce keeps phone numbers unique), its own correlation id
and ``Idempotency-Key``; ``duplicate`` marks the ones whose request is sent
twice with the same key, ``duplicate_message`` the async ones whose queue
message is delivered twice, ``bad_input`` the ones sent with an invalid body
(the API front must refuse those with 400 before any function runs).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

Route = Literal["direct", "async"]
#: How an invalid body is broken: the field the gatekeeper must name is ``cust_no`` every time.
BadInput = Literal["missing_cust_no", "cust_no_not_a_string", "cust_no_malformed"]
BAD_INPUTS: tuple[BadInput, ...] = ("missing_cust_no", "cust_no_not_a_string", "cust_no_malformed")

FAMILY_NAMES = ("Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura")
GIVEN_NAMES = ("Hana", "Yui", "Haruto", "Sota", "Mei", "Ren", "Aoi", "Riku")
#: cust_no is ``T`` + run id + a five-digit index; more sagas than this in one run would need six.
MAX_SAGAS = 99_999


@dataclass(frozen=True)
class PlannedSaga:
    index: int
    route: Route
    cust_no: str
    correlation_id: str
    idempotency_key: str
    customer: dict[str, Any]
    duplicate: bool
    duplicate_message: bool
    bad_input: BadInput | None = None

    def body(self) -> dict[str, Any]:
        """The request body: ``POST /customers`` takes the customer, ``POST /api/async`` wraps it;
        a ``bad_input`` saga's body is broken in the way it names."""
        if self.route == "direct":
            body = {"cust_no": self.cust_no, **self.customer}
        else:
            body = {"kind": "create_customer", "cust_no": self.cust_no, "payload": self.customer}
        if self.bad_input == "missing_cust_no":
            del body["cust_no"]
        elif self.bad_input == "cust_no_not_a_string":
            body["cust_no"] = int(self.cust_no[-5:])
        elif self.bad_input == "cust_no_malformed":
            body["cust_no"] = f"{self.cust_no} with spaces"
        return body


def _share(name: str, value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name}: must be between 0 and 1, got {value}")
    return value


@dataclass(frozen=True)
class TrafficPlan:
    """The plan of one run: ``saga(i)`` for any index; ``take(n)`` the first n, ``__iter__`` all of them."""

    run_id: str
    seed: int = 0
    async_share: float = 0.5
    duplicate_share: float = 0.1
    bad_input_share: float = 0.0

    def __post_init__(self) -> None:
        if not self.run_id.isalnum() or len(self.run_id) > 40:
            raise ValueError(f"run_id: must be 1 to 40 letters or digits, got {self.run_id!r}")
        _share("async_share", self.async_share)
        _share("duplicate_share", self.duplicate_share)
        _share("bad_input_share", self.bad_input_share)

    def saga(self, index: int) -> PlannedSaga:
        if not 0 <= index < MAX_SAGAS:
            raise ValueError(f"index: must be between 0 and {MAX_SAGAS - 1}, got {index}")
        run_id = self.run_id
        # Phones differ between runs on one stack too: the base is the run's, the offset the index.
        phone_base = random.Random(f"{self.seed}-{run_id}").randrange(10**7, 9 * 10**7)
        rng = random.Random(f"{self.seed}-{run_id}-{index}")
        route: Route = "async" if rng.random() < self.async_share else "direct"
        family, given = rng.choice(FAMILY_NAMES), rng.choice(GIVEN_NAMES)
        duplicate, duplicate_message = rng.random(), rng.random()
        bad_input = rng.choice(BAD_INPUTS) if rng.random() < self.bad_input_share else None
        return PlannedSaga(
            index=index,
            route=route,
            cust_no=f"T{run_id}{index:05d}",
            correlation_id=f"traffic-{run_id}-{index}",
            idempotency_key=f"traffic-{run_id}-{index}",
            customer={
                "name": {"family": family, "given": given},
                "email": f"{given.lower()}.{family.lower()}.{run_id.lower()}{index}@example.com",
                "phone": f"+8190{(phone_base + index) % 10**8:08d}",
            },
            # A refused request has nothing to re-send or deliver twice.
            duplicate=bad_input is None and duplicate < self.duplicate_share,
            duplicate_message=bad_input is None
            and route == "async"
            and duplicate_message < self.duplicate_share,
            bad_input=bad_input,
        )

    def take(self, sagas: int) -> list[PlannedSaga]:
        if not 1 <= sagas <= MAX_SAGAS:
            raise ValueError(f"sagas: must be between 1 and {MAX_SAGAS}, got {sagas}")
        return [self.saga(index) for index in range(sagas)]

    def __iter__(self) -> Iterator[PlannedSaga]:
        return (self.saga(index) for index in range(MAX_SAGAS))


def plan_traffic(
    sagas: int,
    *,
    run_id: str,
    seed: int = 0,
    async_share: float = 0.5,
    duplicate_share: float = 0.1,
    bad_input_share: float = 0.0,
) -> list[PlannedSaga]:
    """``sagas`` creations named after ``run_id`` (letters and digits, so cust_no stays valid);
    ``async_share`` of them through ``POST /api/async``, ``duplicate_share`` sent twice (and, for the
    async ones, that share of queue messages delivered twice), ``bad_input_share`` with invalid bodies."""
    if sagas < 1:
        raise ValueError(f"sagas: must be at least 1, got {sagas}")
    plan = TrafficPlan(
        run_id=run_id,
        seed=seed,
        async_share=async_share,
        duplicate_share=duplicate_share,
        bad_input_share=bad_input_share,
    )
    return plan.take(sagas)
