"""Event sourcing: the rules and the fold (pure), the store's optimistic concurrency, the query model's
catch-up under redelivery and reordering, the replay, and the append API, on real DynamoDB (moto)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any, cast

import pytest

from instrumented_app.eventsourcing.model import (
    AccountClosed,
    AccountOpened,
    MoneyDeposited,
    MoneyWithdrawn,
    RuleBroken,
    StoredEvent,
    check,
    fold,
)
from instrumented_app.eventsourcing.replay import differences, rebuild, replay_into
from instrumented_app.eventsourcing.service_b import Inbox
from instrumented_app.eventsourcing.store import ConcurrencyConflict, EventStore
from instrumented_app.eventsourcing.views import AccountViews, catch_up
from tests.unit.patterns.data_aws import event_store_table, inbox_table, moto_dynamodb, views_table


def history(aggregate_id: str, *amounts: int) -> list[StoredEvent]:
    """Opened, then a deposit per positive amount and a withdrawal per negative one."""
    events = [
        StoredEvent(
            aggregate_id=aggregate_id,
            version=1,
            type="AccountOpened",
            data={"currency": "JPY"},
            recorded_at="t1",
        )
    ]
    for n, amount in enumerate(amounts, start=2):
        kind = "MoneyDeposited" if amount > 0 else "MoneyWithdrawn"
        events.append(
            StoredEvent(
                aggregate_id=aggregate_id,
                version=n,
                type=kind,
                data={"amount": abs(amount)},
                recorded_at=f"t{n}",
            )
        )
    return events


def test_the_fold_gives_balance_counts_and_version() -> None:
    view = fold(history("a", 500, 300, -200))
    assert view is not None
    assert (view.version, view.balance, view.deposits, view.withdrawals, view.status) == (
        4,
        600,
        2,
        1,
        "open",
    )


def test_an_event_out_of_order_is_refused_by_the_fold() -> None:
    events = history("a", 5, 6)
    with pytest.raises(ValueError, match="out of order"):
        fold([events[0], events[2]])


@pytest.mark.parametrize(
    ("amounts", "event", "problem"),
    [
        (None, MoneyDeposited(type="MoneyDeposited", amount=1), "first event"),
        ((), AccountOpened(type="AccountOpened", currency="JPY"), "already open"),
        ((100,), MoneyWithdrawn(type="MoneyWithdrawn", amount=101), "larger than the balance"),
        ((100,), AccountClosed(type="AccountClosed"), "zero balance"),
    ],
)
def test_the_rules_refuse_what_the_account_cannot_do(
    amounts: tuple[int, ...] | None, event: Any, problem: str
) -> None:
    view = None if amounts is None else fold(history("a", *amounts))
    with pytest.raises(RuleBroken, match=problem):
        check(view, event)


@pytest.fixture(scope="module")
def dynamodb() -> Iterator[Any]:
    with moto_dynamodb() as client:
        yield client


@pytest.fixture
def store(dynamodb: Any) -> EventStore:
    return EventStore(event_store_table(dynamodb), dynamodb)


@pytest.fixture
def views(dynamodb: Any) -> AccountViews:
    return AccountViews(views_table(dynamodb), dynamodb)


def test_of_two_writers_at_one_version_only_the_first_is_stored(store: EventStore) -> None:
    first, *_ = history("a")
    store.append(first)
    rival = first.model_copy(update={"data": {"currency": "USD"}})
    with pytest.raises(ConcurrencyConflict) as conflict:
        store.append(rival)
    assert (conflict.value.expected, conflict.value.current) == (0, 1)
    assert store.load("a") == [first]


def test_the_query_model_survives_duplicates_and_reordering_and_equals_the_replay(
    store: EventStore, views: AccountViews
) -> None:
    events = history("a", 100, 250, -50, 75) + history("b", 10, 20)
    for event in events:
        store.append(event)
    deliveries = events + random.Random(7).sample(events, 5)  # each at least once, some twice
    random.Random(11).shuffle(deliveries)
    actions = [catch_up(views, store, event).action for event in deliveries]
    assert set(actions) <= {"applied", "caught_up", "duplicate"} and "caught_up" in actions
    assert actions.count("duplicate") >= 5
    incremental = views.all()
    assert incremental["a"].balance == 375 and incremental["a"].version == 5
    rebuilt = rebuild(list(store.all_events()))
    assert differences(rebuilt, incremental) == []
    assert rebuilt == incremental


def test_a_replay_repairs_a_damaged_query_model(store: EventStore, views: AccountViews) -> None:
    for event in history("a", 100) + history("b", 7):
        store.append(event)
    right = rebuild(list(store.all_events()))
    views.put(right["a"].model_copy(update={"balance": 999_999}))  # damaged
    views.put(right["a"].model_copy(update={"aggregate_id": "ghost"}))  # no events at all
    assert differences(right, views.all()) == [
        "a: rebuilt version 2, query model version 2",
        "b: rebuilt version 2, query model version None",
        "ghost: rebuilt version None, query model version 2",
    ]
    replay_into(store, views)
    assert views.all() == right


def test_service_b_records_each_event_once(dynamodb: Any) -> None:
    inbox = Inbox(inbox_table(dynamodb), dynamodb)
    event = history("a")[0]
    assert inbox.receive(event, 1) is True
    assert inbox.receive(event, 2) is False
    assert inbox.has("a#1") and not inbox.has("a#2")


# --- the append API -----------------------------------------------------------------------------


class Context:
    function_name = "sw-event-store"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:sw-event-store"
    aws_request_id = "req-1"


@pytest.fixture
def api(
    dynamodb: Any, store: EventStore, views: AccountViews, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
    from instrumented_app.handlers import event_store as module

    monkeypatch.setattr(module, "store", lambda: store)
    monkeypatch.setattr(module, "views", lambda: views)

    def call(method: str, path: str, body: Any = None) -> tuple[int, Any]:
        event = {
            "resource": path,
            "path": path,
            "httpMethod": method,
            "headers": {"content-type": "application/json"},
            "requestContext": {"stage": "v1", "httpMethod": method, "requestId": "req-1"},
            "body": None if body is None else json.dumps(body),
            "isBase64Encoded": False,
        }
        answer = module.app.resolve(event, cast(Any, Context()))
        return answer["statusCode"], json.loads(answer["body"])

    yield call


def test_the_api_appends_refuses_a_stale_writer_a_broken_rule_and_a_bad_field(api: Any) -> None:
    opened = api(
        "POST",
        "/accounts/acc-1/events",
        {"expected_version": 0, "event": {"type": "AccountOpened", "currency": "EUR"}},
    )
    assert opened == (201, {**opened[1], "version": 1, "type": "AccountOpened", "data": {"currency": "EUR"}})
    deposit = {"type": "MoneyDeposited", "amount": 40}
    assert api("POST", "/accounts/acc-1/events", {"expected_version": 1, "event": deposit})[0] == 201
    status, stale = api("POST", "/accounts/acc-1/events", {"expected_version": 1, "event": deposit})
    assert status == 409 and (stale["expected_version"], stale["current_version"]) == (1, 2)
    status, broken = api(
        "POST", "/accounts/acc-1/events", {"expected_version": 2, "event": {"type": "AccountClosed"}}
    )
    assert status == 422 and "zero balance" in broken["message"]
    status, bad = api(
        "POST",
        "/accounts/acc-1/events",
        {"expected_version": 2, "event": {"type": "MoneyDeposited", "amount": 0}},
    )
    assert status == 400 and bad["errors"][0]["field"].endswith("amount")
    status, bad_id = api("POST", "/accounts/no%20spaces/events", {"expected_version": 0, "event": deposit})
    assert status == 400 and bad_id["errors"][0]["field"] == "account_id"
    status, listed = api("GET", "/accounts/acc-1/events")
    assert status == 200 and [e["version"] for e in listed["events"]] == [1, 2]
    assert api("GET", "/accounts/acc-1")[0] == 404  # the query model is fed by the stream, not here
