"""The traffic plan: repeatable from its seed, every customer distinct, shares as asked, bad input named."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from instrumented_app.jobs.requests import RequestInvalid, parse_request
from instrumented_app.sagas.customer_input import NewCustomer
from instrumented_app.traffic import plan_traffic
from instrumented_app.traffic.plan import BAD_INPUTS, TrafficPlan


def test_a_plan_is_repeatable_and_every_customer_is_distinct_and_valid() -> None:
    plan = plan_traffic(400, run_id="abc123", seed=5, async_share=0.5, duplicate_share=0.1)
    assert plan == plan_traffic(400, run_id="abc123", seed=5, async_share=0.5, duplicate_share=0.1)
    for field in ("cust_no", "correlation_id", "idempotency_key"):
        assert len({getattr(p, field) for p in plan}) == 400, field
    assert len({p.customer["email"] for p in plan}) == len({p.customer["phone"] for p in plan}) == 400
    for planned in plan:  # each body is what the API's own models accept
        if planned.route == "direct":
            NewCustomer.model_validate(planned.body())
        else:
            parse_request(planned.body())


def test_shares_are_honoured_and_only_async_sagas_get_a_second_delivery() -> None:
    plan = plan_traffic(1000, run_id="r1", seed=1, async_share=0.3, duplicate_share=0.1)
    assert 250 < sum(p.route == "async" for p in plan) < 350
    assert 70 < sum(p.duplicate for p in plan) < 130
    assert all(p.route == "async" for p in plan if p.duplicate_message)
    assert sum(p.duplicate_message for p in plan) > 10
    none = plan_traffic(50, run_id="r2", async_share=0.0, duplicate_share=0.0)
    assert {p.route for p in none} == {"direct"} and not any(p.duplicate or p.duplicate_message for p in none)
    assert not any(p.bad_input for p in none)


def test_bad_input_bodies_are_refused_by_the_apis_own_models_naming_cust_no() -> None:
    plan = plan_traffic(600, run_id="bad", seed=3, bad_input_share=0.2)
    bad = [p for p in plan if p.bad_input]
    assert 80 < len(bad) < 160
    assert {p.bad_input for p in bad} == set(BAD_INPUTS)
    assert {p.route for p in bad} == {"direct", "async"}
    assert not any(p.duplicate or p.duplicate_message for p in bad)  # a refused request has no second
    for planned in bad:
        if planned.route == "direct":
            with pytest.raises(ValidationError, match="cust_no"):
                NewCustomer.model_validate(planned.body())
        else:
            with pytest.raises(RequestInvalid, match="cust_no"):
                parse_request(planned.body())


def test_an_endless_plan_starts_like_a_counted_one() -> None:
    plan = TrafficPlan(run_id="lazy", seed=9, bad_input_share=0.1)
    first = [planned for planned, _ in zip(plan, range(50), strict=False)]
    assert first == plan.take(50) == plan_traffic(50, run_id="lazy", seed=9, bad_input_share=0.1)


def test_two_runs_on_one_stack_do_not_share_phones() -> None:
    first = {p.customer["phone"] for p in plan_traffic(300, run_id="one", seed=0)}
    second = {p.customer["phone"] for p in plan_traffic(300, run_id="two", seed=0)}
    assert first.isdisjoint(second)


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"sagas": 0}, "sagas"),
        ({"run_id": "has space"}, "run_id"),
        ({"async_share": 1.5}, "async_share"),
        ({"duplicate_share": -0.1}, "duplicate_share"),
        ({"bad_input_share": 2.0}, "bad_input_share"),
        ({"sagas": 100_000}, "sagas"),
    ],
)
def test_bad_arguments_are_refused_naming_the_argument(kwargs: dict[str, object], named: str) -> None:
    arguments: dict[str, object] = {"sagas": 10, "run_id": "ok", **kwargs}
    with pytest.raises(ValueError, match=named):
        plan_traffic(**arguments)  # type: ignore[arg-type]
