"""S3 bucket notifications to Lambda against moto's real S3 over HTTP."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import S3Model

from tests.unit.runtime.test_pollers_harness import FakeInvoker, MotoStack, running_pollers, wait_for


@pytest.fixture
def stack() -> Iterator[MotoStack]:
    moto = MotoStack()
    yield moto
    moto.stop()


def notify_on_upload(
    stack: MotoStack, bucket: str, function: str, *, prefix: str = "", suffix: str = ""
) -> None:
    function_arn = stack.create_function(function)
    s3 = stack.client("s3")
    s3.create_bucket(Bucket=bucket)
    rules = [{"Name": "prefix", "Value": prefix}] if prefix else []
    rules += [{"Name": "suffix", "Value": suffix}] if suffix else []
    config: dict[str, Any] = {"LambdaFunctionArn": function_arn, "Events": ["s3:ObjectCreated:*"]}
    if rules:
        config["Filter"] = {"Key": {"FilterRules": rules}}
    s3.put_bucket_notification_configuration(
        Bucket=bucket, NotificationConfiguration={"LambdaFunctionConfigurations": [config]}
    )


def test_an_upload_invokes_the_function_with_the_object_key(stack: MotoStack) -> None:
    notify_on_upload(stack, "photos", "thumbnailer", prefix="uploads/", suffix=".jpg")
    invoker = FakeInvoker({"thumbnailer": lambda event: None})

    with running_pollers(stack, invoker):
        s3 = stack.client("s3")
        s3.put_object(Bucket="photos", Key="uploads/my photo.jpg", Body=b"\xff\xd8jpeg")
        s3.put_object(Bucket="photos", Key="elsewhere/skip.jpg", Body=b"x")  # outside the prefix filter
        s3.put_object(Bucket="photos", Key="uploads/notes.txt", Body=b"x")  # outside the suffix filter
        assert wait_for(lambda: len(invoker.calls) >= 1)
        wait_for(lambda: len(invoker.calls) > 1, timeout=1.0)

    assert len(invoker.calls) == 1
    record = invoker.calls[0].event["Records"][0]
    assert record["eventSource"] == "aws:s3"
    assert record["eventName"] == "ObjectCreated:Put"
    assert record["awsRegion"] == "us-east-1"
    assert record["s3"]["bucket"]["name"] == "photos"
    assert record["s3"]["bucket"]["arn"] == "arn:aws:s3:::photos"
    assert record["s3"]["object"]["key"] == "uploads/my+photo.jpg"  # URL-encoded, as S3 sends it
    assert record["s3"]["object"]["size"] == 6
    assert record["s3"]["object"]["sequencer"]
    parsed = S3Model.model_validate(invoker.calls[0].event)  # what a Powertools parser handler accepts
    assert parsed.Records[0].s3.object is not None
    assert parsed.Records[0].s3.object.key == "uploads/my+photo.jpg"


def test_a_failing_function_is_retried_as_an_asynchronous_invoke(stack: MotoStack) -> None:
    notify_on_upload(stack, "inbox", "ingest")
    attempts: list[str] = []

    def fails_twice(event: dict[str, Any]) -> None:
        attempts.append(event["Records"][0]["s3"]["object"]["key"])
        if len(attempts) < 3:
            raise RuntimeError("downstream not ready")

    invoker = FakeInvoker({"ingest": fails_twice})
    with running_pollers(stack, invoker, s3_retry_delays_s=(0.1, 0.2)):
        stack.client("s3").put_object(Bucket="inbox", Key="a.csv", Body=b"1,2")
        assert wait_for(lambda: len(attempts) == 3)
        wait_for(lambda: len(attempts) > 3, timeout=1.0)

    assert attempts == ["a.csv", "a.csv", "a.csv"]  # first try and two retries, then no more


def test_an_upload_returns_before_the_function_runs(stack: MotoStack) -> None:
    notify_on_upload(stack, "slow", "thumbnailer")
    release = threading.Event()
    invoker = FakeInvoker({"thumbnailer": lambda event: release.wait(10)})

    with running_pollers(stack, invoker):
        stack.client("s3").put_object(Bucket="slow", Key="big.png", Body=b"png")  # would hang if synchronous
        assert wait_for(lambda: len(invoker.calls) == 1)
        release.set()


def test_uploads_are_handled_concurrently_as_asynchronous_invokes(stack: MotoStack) -> None:
    notify_on_upload(stack, "parallel", "thumbnailer")
    both_running = threading.Barrier(2, timeout=5)  # breaks unless two invocations overlap

    def waits_for_the_other(event: dict[str, Any]) -> str:
        both_running.wait()
        return "done"

    invoker = FakeInvoker({"thumbnailer": waits_for_the_other})
    with running_pollers(stack, invoker):
        s3 = stack.client("s3")
        s3.put_object(Bucket="parallel", Key="a.png", Body=b"a")
        s3.put_object(Bucket="parallel", Key="b.png", Body=b"b")
        assert wait_for(lambda: len(invoker.calls) == 2)
        assert wait_for(lambda: both_running.n_waiting == 0)

    assert not both_running.broken


def test_wait_idle_waits_for_notifications_still_being_delivered(stack: MotoStack) -> None:
    notify_on_upload(stack, "queued", "thumbnailer")
    release = threading.Event()
    done: list[str] = []

    def slow(event: dict[str, Any]) -> None:
        release.wait(10)
        done.append(event["Records"][0]["s3"]["object"]["key"])

    invoker = FakeInvoker({"thumbnailer": slow})
    with running_pollers(stack, invoker) as pollers:
        stack.client("s3").put_object(Bucket="queued", Key="k.png", Body=b"k")
        assert wait_for(lambda: len(invoker.calls) == 1)
        assert not pollers.wait_idle(0.3)  # the invocation is still running
        release.set()
        assert pollers.wait_idle(5)
        assert done == ["k.png"]


def test_a_delete_notifies_when_the_bucket_asks_for_removals(stack: MotoStack) -> None:
    function_arn = stack.create_function("cleaner")
    s3 = stack.client("s3")
    s3.create_bucket(Bucket="archive")
    s3.put_bucket_notification_configuration(
        Bucket="archive",
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": function_arn, "Events": ["s3:ObjectRemoved:*"]}
            ]
        },
    )
    invoker = FakeInvoker({"cleaner": lambda event: None})

    with running_pollers(stack, invoker) as pollers:
        s3.put_object(Bucket="archive", Key="old.log", Body=b"x")  # a creation: not asked for
        s3.delete_object(Bucket="archive", Key="old.log")
        assert wait_for(lambda: len(invoker.calls) >= 1)
        assert pollers.wait_idle(5)

    assert [c.event["Records"][0]["eventName"] for c in invoker.calls] == ["ObjectRemoved:Delete"]
    assert invoker.calls[0].event["Records"][0]["s3"]["object"]["key"] == "old.log"
