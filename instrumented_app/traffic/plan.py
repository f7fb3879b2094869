"""What a traffic run sends: one ``PlannedSaga`` per customer creation, decided up front from a seed.

Pure: the same arguments give the same plan, so a run can be repeated. Every
saga gets its own ``cust_no``, email and phone (commerce keeps phone numbers
unique), its own correlation id and ``Idempotency-Key``; ``duplicate`` marks
the ones whose request is sent twice with the same key, ``duplicate_message``
the async ones whose queue message is delivered twice.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Literal

Route = Literal["direct", "async"]

FAMILY_NAMES = ("Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura")
GIVEN_NAMES = ("Hana", "Yui", "Haruto", "Sota", "Mei", "Ren", "Aoi", "Riku")


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

    def body(self) -> dict[str, Any]:
        """The request body: ``POST /customers`` takes the customer, ``POST /api/async`` wraps it."""
        if self.route == "direct":
            return {"cust_no": self.cust_no, **self.customer}
        return {"kind": "create_customer", "cust_no": self.cust_no, "payload": self.customer}


def _share(name: str, value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name}: must be between 0 and 1, got {value}")
    return value


def plan_traffic(
    sagas: int,
    *,
    run_id: str,
    seed: int = 0,
    async_share: float = 0.5,
    duplicate_share: float = 0.1,
) -> list[PlannedSaga]:
    """``sagas`` creations named after ``run_id`` (letters and digits, so cust_no stays valid);
    ``async_share`` of them through ``POST /api/async``, ``duplicate_share`` sent twice (and, for the
    async ones, that share of queue messages delivered twice)."""
    if sagas < 1:
        raise ValueError(f"sagas: must be at least 1, got {sagas}")
    if not run_id.isalnum() or len(run_id) > 40:
        raise ValueError(f"run_id: must be 1 to 40 letters or digits, got {run_id!r}")
    _share("async_share", async_share)
    _share("duplicate_share", duplicate_share)
    rng = random.Random(f"{seed}-{run_id}")  # phones differ between runs on one stack too
    phone_base = rng.randrange(10**7, 9 * 10**7)
    planned = []
    for index in range(sagas):
        route: Route = "async" if rng.random() < async_share else "direct"
        family, given = rng.choice(FAMILY_NAMES), rng.choice(GIVEN_NAMES)
        customer = {
            "name": {"family": family, "given": given},
            "email": f"{given.lower()}.{family.lower()}.{run_id.lower()}{index}@example.com",
            "phone": f"+8190{(phone_base + index) % 10**8:08d}",
        }
        planned.append(
            PlannedSaga(
                index=index,
                route=route,
                cust_no=f"T{run_id}{index:05d}",
                correlation_id=f"traffic-{run_id}-{index}",
                idempotency_key=f"traffic-{run_id}-{index}",
                customer=customer,
                duplicate=rng.random() < duplicate_share,
                duplicate_message=route == "async" and rng.random() < duplicate_share,
            )
        )
    return planned
