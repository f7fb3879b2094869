"""Following the Lambda API: mappings created, changed, disabled or deleted while the pollers run."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from instrumented_app.runtime.pollers import EventSourcePollers
from tests.unit.runtime.test_pollers_harness import REGION, FakeInvoker, MotoStack, running_pollers, wait_for


@pytest.fixture
def stack() -> Iterator[MotoStack]:
    moto = MotoStack()
    yield moto
    moto.stop()


def make_queue(stack: MotoStack, name: str) -> tuple[str, str]:
    sqs = stack.client("sqs")
    url = sqs.create_queue(QueueName=name, Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def visible_messages(stack: MotoStack, url: str) -> int:
    attrs = stack.client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    return int(attrs["Attributes"]["ApproximateNumberOfMessages"])


def poller_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith(("poller-", "s3-notifications"))]


def test_refresh_picks_up_a_mapping_created_after_start(stack: MotoStack) -> None:
    url, arn = make_queue(stack, "late")
    stack.create_function("worker")
    invoker = FakeInvoker({"worker": lambda event: None})

    with running_pollers(stack, invoker, refresh_interval_s=None) as pollers:
        created = stack.client("lambda").create_event_source_mapping(
            EventSourceArn=arn, FunctionName="worker"
        )
        assert created["UUID"] not in pollers.mappings
        stack.client("sqs").send_message(QueueUrl=url, MessageBody="hello")
        pollers.refresh()
        assert created["UUID"] in pollers.mappings
        assert wait_for(lambda: len(invoker.calls) == 1)


def test_the_refresh_loop_follows_new_and_disabled_mappings(stack: MotoStack) -> None:
    url, arn = make_queue(stack, "followed")
    stack.create_function("worker")
    invoker = FakeInvoker({"worker": lambda event: None})
    lam = stack.client("lambda")

    with running_pollers(stack, invoker, refresh_interval_s=0.1) as pollers:
        uuid = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="worker")["UUID"]
        assert wait_for(lambda: uuid in pollers.mappings)
        lam.update_event_source_mapping(UUID=uuid, Enabled=False)
        assert wait_for(lambda: uuid not in pollers.mappings)
        stack.client("sqs").send_message(QueueUrl=url, MessageBody="not for a disabled mapping")
        assert not wait_for(lambda: len(invoker.calls) > 0, timeout=1.0)

    assert visible_messages(stack, url) == 1


def test_a_changed_batch_size_applies_without_a_restart(stack: MotoStack) -> None:
    url, arn = make_queue(stack, "resized")
    stack.create_function("worker")
    lam = stack.client("lambda")
    uuid = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="worker", BatchSize=10)["UUID"]
    invoker = FakeInvoker({"worker": lambda event: None})

    with running_pollers(stack, invoker, refresh_interval_s=None) as pollers:
        lam.update_event_source_mapping(UUID=uuid, BatchSize=1)
        pollers.refresh()
        assert pollers.mappings[uuid].batch_size == 1
        assert pollers.wait_idle(5)  # a receive begun before the change has ended
        stack.client("sqs").send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": str(i)} for i in range(3)]
        )
        assert wait_for(lambda: sum(len(c.event["Records"]) for c in invoker.calls) == 3)

    assert [len(c.event["Records"]) for c in invoker.calls] == [1, 1, 1]


def test_a_deleted_mapping_stops_its_poller(stack: MotoStack) -> None:
    _url, arn = make_queue(stack, "dropped")
    stack.create_function("worker")
    lam = stack.client("lambda")
    uuid = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="worker")["UUID"]

    with running_pollers(stack, FakeInvoker(), refresh_interval_s=None) as pollers:
        assert uuid in pollers.mappings
        lam.delete_event_source_mapping(UUID=uuid)
        pollers.refresh()
        assert uuid not in pollers.mappings


def test_stop_ends_every_thread(stack: MotoStack) -> None:
    _url, arn = make_queue(stack, "stopped")
    stack.create_function("worker")
    stack.client("lambda").create_event_source_mapping(EventSourceArn=arn, FunctionName="worker")
    pollers = EventSourcePollers(FakeInvoker(), aws_endpoint=stack.endpoint, region=REGION)
    pollers.start()
    assert poller_threads()
    pollers.stop(timeout=5)
    assert poller_threads() == []


def test_a_missing_function_leaves_the_messages_on_the_queue(stack: MotoStack) -> None:
    url, arn = make_queue(stack, "orphan")
    stack.create_function("gone")
    stack.client("lambda").create_event_source_mapping(EventSourceArn=arn, FunctionName="gone")
    stack.client("sqs").send_message(QueueUrl=url, MessageBody="kept")

    with running_pollers(stack, FakeInvoker()) as pollers:  # the invoker knows no function "gone"
        assert pollers.wait_idle(5)

    assert wait_for(lambda: visible_messages(stack, url) == 1, timeout=3)


@pytest.mark.parametrize(("option", "value"), [("poll_interval_s", 0), ("refresh_interval_s", -1.0)])
def test_bad_intervals_are_refused_by_name(option: str, value: float) -> None:
    options: dict[str, Any] = {option: value}
    with pytest.raises(ValueError, match=f"^{option}:"):
        EventSourcePollers(FakeInvoker(), aws_endpoint="http://127.0.0.1:1", region=REGION, **options)


def test_a_mapping_to_an_alias_invokes_through_the_alias(stack: MotoStack) -> None:
    url, arn = make_queue(stack, "canary")
    stack.create_function("checkout")
    lam = stack.client("lambda")
    version = lam.publish_version(FunctionName="checkout")["Version"]
    lam.create_alias(FunctionName="checkout", Name="live", FunctionVersion=version)
    created = lam.create_event_source_mapping(EventSourceArn=arn, FunctionName="checkout:live")
    assert created["FunctionArn"].endswith(":function:checkout:live")  # as Lambda answers, not ":1"
    invoker = FakeInvoker({"checkout": lambda event: None})

    with running_pollers(stack, invoker):
        stack.client("sqs").send_message(QueueUrl=url, MessageBody="order")
        assert wait_for(lambda: len(invoker.calls) == 1)

    assert invoker.calls[0].qualifier == "live"  # weights and promotions of the alias apply
