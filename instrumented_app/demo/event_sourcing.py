"""``sagawatch demo event_sourcing``: an account's events through the store, the router and both subscribers.

Opens an account and appends deposits and a withdrawal over the API, shows a
second writer at a stale version refused (409), waits for the query model and
service B to have every event, then rebuilds the query model from the store
and compares. ``sagawatch demo event_sourcing_replay`` (``replay``) rebuilds
the whole query model from the store and says what it corrected.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx
from tenacity import RetryError, Retrying, retry_if_result, stop_after_delay, wait_fixed

from instrumented_app.eventsourcing.replay import differences, rebuild, replay_into
from instrumented_app.eventsourcing.service_b import Inbox
from instrumented_app.eventsourcing.store import EventStore
from instrumented_app.eventsourcing.views import AccountViews
from sagawatch.aws import aws_session
from sagawatch.stack_info import StackInfo

#: Table names in instrumented_app/template.yaml.
EVENT_STORE_TABLE = "sw-event-store"
ACCOUNT_VIEWS_TABLE = "sw-account-views"
SERVICE_B_INBOX_TABLE = "sw-service-b-inbox"
#: How long the subscribers may take before the demo calls it a failure.
CATCH_UP_S = 30.0


def run(stack: StackInfo, say: Callable[[str], None]) -> bool:
    account = f"demo-{uuid.uuid4().hex[:8]}"
    correlation_id = f"demo-es-{uuid.uuid4().hex[:12]}"
    events: list[dict[str, Any]] = [
        {"type": "AccountOpened", "currency": "JPY"},
        {"type": "MoneyDeposited", "amount": 5000},
        {"type": "MoneyDeposited", "amount": 2500},
        {"type": "MoneyWithdrawn", "amount": 1200},
    ]
    with httpx.Client(base_url=stack.api_endpoint, timeout=15, trust_env=False) as http:
        http.headers["X-Correlation-Id"] = correlation_id
        say(f"correlation id {correlation_id}; account {account}")
        path = f"/accounts/{account}/events"
        for version, event in enumerate(events):
            stored = http.post(path, json={"expected_version": version, "event": event})
            if stored.status_code != 201:
                say(f"POST {path} answered {stored.status_code}: {stored.text}")
                return False
            say(f"POST {path} {event['type']} at expected version {version} -> 201, version {version + 1}")
        stale = http.post(
            path, json={"expected_version": 2, "event": {"type": "MoneyDeposited", "amount": 1}}
        )
        conflict: dict[str, Any] = stale.json()
        say(
            f"a second writer at expected version 2 -> {stale.status_code}: "
            f"current_version {conflict.get('current_version')}"
        )
        try:
            view = _wait(lambda: _view(http, account, len(events)))
        except RetryError:
            say(f"the query model did not reach version {len(events)} within {CATCH_UP_S:.0f} s")
            return False
    say(f"GET /accounts/{account}: version {view['version']}, balance {view['balance']} {view['currency']}")

    dynamodb = aws_session(stack.region, stack.aws_endpoint).client(
        "dynamodb", endpoint_url=stack.aws_endpoint
    )
    store = EventStore(EVENT_STORE_TABLE, dynamodb)
    inbox = Inbox(SERVICE_B_INBOX_TABLE, dynamodb)
    history = store.load(account)
    try:
        _wait(lambda: all(inbox.has(event.event_id) for event in history) or None)
    except RetryError:
        say(f"service B did not receive all {len(history)} events within {CATCH_UP_S:.0f} s")
        return False
    say(f"service B's inbox ({SERVICE_B_INBOX_TABLE}) holds all {len(history)} events")
    rebuilt = rebuild(history)
    current = AccountViews(ACCOUNT_VIEWS_TABLE, dynamodb).get(account)
    problems = differences(rebuilt, {account: current} if current else {})
    say("a rebuild from the store equals the query model" if not problems else f"rebuild differs: {problems}")
    say(
        "logs: /aws/lambda/sw-event-store, sw-event-router, sw-query-model and sw-service-b, "
        "all with this correlation id"
    )
    return stale.status_code == 409 and conflict.get("current_version") == len(events) and not problems


def replay(stack: StackInfo, say: Callable[[str], None]) -> bool:
    """Rebuild the whole query model from the event store; say what differed before."""
    dynamodb = aws_session(stack.region, stack.aws_endpoint).client(
        "dynamodb", endpoint_url=stack.aws_endpoint
    )
    store, views = EventStore(EVENT_STORE_TABLE, dynamodb), AccountViews(ACCOUNT_VIEWS_TABLE, dynamodb)
    before = views.all()
    rebuilt = replay_into(store, views)
    corrected = differences(rebuilt, before)
    say(f"replayed the event store into {ACCOUNT_VIEWS_TABLE}: {len(rebuilt)} accounts")
    for line in corrected:
        say(f"corrected {line}")
    after = differences(rebuilt, views.all())
    say("the query model now equals the rebuild" if not after else f"still differs: {after}")
    return not after


def _view(http: httpx.Client, account: str, version: int) -> dict[str, Any] | None:
    answer = http.get(f"/accounts/{account}")
    body: dict[str, Any] = answer.json()
    return body if answer.status_code == 200 and body.get("version") == version else None


def _wait(probe: Callable[[], Any]) -> Any:
    """``probe()`` until it returns something other than None, for at most ``CATCH_UP_S``."""
    retrying = Retrying(
        stop=stop_after_delay(CATCH_UP_S),
        wait=wait_fixed(0.2),
        retry=retry_if_result(lambda found: found is None),
    )
    return retrying(probe)
