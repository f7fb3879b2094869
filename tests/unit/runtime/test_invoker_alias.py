"""Weighted aliases: the canary split, as the Lambda service routes an alias with AdditionalVersionWeights."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterator

import pytest

from instrumented_app.runtime.catalog import AliasRouting, split_function_name
from instrumented_app.runtime.invoker import LocalInvoker
from tests.unit.runtime.test_invoker_harness import REGION, MotoStack, moto_stack


@pytest.fixture(scope="module")
def stack() -> Iterator[MotoStack]:
    with moto_stack() as running:
        yield running


def _canary(stack: MotoStack, weight: float) -> str:
    """A function with versions 1 and 2 (different GREETING) behind alias ``live``."""
    lam = stack.client("lambda")
    name = stack.create_function("sample.echo", env={"GREETING": "stable"})
    lam.publish_version(FunctionName=name)
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"GREETING": "canary"}})
    lam.publish_version(FunctionName=name)
    lam.create_alias(
        FunctionName=name,
        Name="live",
        FunctionVersion="1",
        RoutingConfig={"AdditionalVersionWeights": {"2": weight}},
    )
    return name


def test_a_thousand_invocations_split_by_the_aliases_weights(stack: MotoStack) -> None:
    name = _canary(stack, 0.05)
    with LocalInvoker(aws_endpoint=stack.endpoint, region=REGION, rng=random.Random(20261124)) as invoker:
        results = [invoker.invoke(name, {}, qualifier="live") for _ in range(1000)]

    versions = Counter(r.version for r in results)
    greetings = Counter(r.payload["greeting"] for r in results)

    assert set(versions) == {"1", "2"}
    assert 20 <= versions["2"] <= 80  # 5 % of 1,000 within +-3 points
    assert greetings == Counter({"stable": versions["1"], "canary": versions["2"]})
    assert all(r.payload["invoked_function_arn"].endswith(f":{name}:live") for r in results)
    assert all(r.payload["function_version"] == r.version for r in results)


def test_the_alias_by_arn_or_name_colon_alias_routes_the_same(stack: MotoStack) -> None:
    name = _canary(stack, 0.0)
    arn = f"arn:aws:lambda:{REGION}:123456789012:function:{name}:live"
    with LocalInvoker(aws_endpoint=stack.endpoint, region=REGION) as invoker:
        by_arn = invoker.invoke(arn, {})
        by_name = invoker.invoke(f"{name}:live", {})

    assert (by_arn.version, by_name.version) == ("1", "1")


def test_pick_follows_the_weights() -> None:
    routing = AliasRouting("live", "3", {"4": 0.25, "5": 0.5})
    rng = random.Random(7)

    picks = Counter(routing.pick(rng) for _ in range(20_000))

    assert abs(picks["4"] / 20_000 - 0.25) < 0.02
    assert abs(picks["5"] / 20_000 - 0.5) < 0.02
    assert abs(picks["3"] / 20_000 - 0.25) < 0.02


@pytest.mark.parametrize(
    ("given", "qualifier", "expected"),
    [
        ("orders", None, ("orders", None)),
        ("orders:live", None, ("orders", "live")),
        ("arn:aws:lambda:us-east-1:123456789012:function:orders", "2", ("orders", "2")),
        ("arn:aws:lambda:us-east-1:123456789012:function:orders:$LATEST", None, ("orders", "$LATEST")),
        ("123456789012:function:orders:7", None, ("orders", "7")),
    ],
)
def test_function_names_and_arns_split_into_name_and_qualifier(
    given: str, qualifier: str | None, expected: tuple[str, str | None]
) -> None:
    assert split_function_name(given, qualifier) == expected


def test_a_qualifier_given_twice_must_agree() -> None:
    with pytest.raises(ValueError, match="qualifier: '2' conflicts with 'live'"):
        split_function_name("orders:live", "2")


def test_an_alias_change_reaches_a_running_invoker_without_a_refresh() -> None:
    """``sagawatch canary rollback`` changes the alias in the Lambda API; traffic must follow by itself."""
    from instrumented_app.runtime.catalog import FunctionCatalog

    class FakeLambda:
        def __init__(self) -> None:
            self.weights = {"2": 0.5}

        def get_alias(self, FunctionName: str, Name: str) -> dict[str, object]:
            return {"FunctionVersion": "1", "RoutingConfig": {"AdditionalVersionWeights": dict(self.weights)}}

    client = FakeLambda()
    catalog = FunctionCatalog(client, mutable_ttl_s=0.05)
    assert catalog.alias("fn", "live").additional_weights == {"2": 0.5}
    client.weights = {}
    assert catalog.alias("fn", "live").additional_weights == {"2": 0.5}, "cached within the TTL"
    time.sleep(0.06)
    assert catalog.alias("fn", "live").additional_weights == {}
