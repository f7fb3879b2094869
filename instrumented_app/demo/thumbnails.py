"""``sagawatch demo thumbnails``: an upload becomes three thumbnails; a non-image is refused once.

Uploads a generated PNG to the source bucket and waits for
``thumbnails/{128,256,512}/<key>`` in the thumbnails bucket; then uploads a text
file and waits for the function's ERROR line with its ``error_code`` in
CloudWatch Logs, and shows that it was logged once (no retry loop).
"""

from __future__ import annotations

import io
import json
import time
import uuid
from collections.abc import Callable
from typing import Any

from PIL import Image
from tenacity import RetryError, Retrying, retry_if_result, stop_after_delay, wait_fixed

from instrumented_app.fanout.thumbnails import SIZES, thumbnail_key
from sagawatch.aws import aws_session
from sagawatch.stack_info import StackInfo

#: How long the thumbnails (or the error line) may take before the demo calls it a failure.
WAIT_S = 30.0
#: After the error line, how long to watch that no retry logs it again (local retries come 1 s after).
RETRY_WINDOW_S = 1.5
FUNCTION = "sw-thumbnails"


def buckets(stack: StackInfo) -> tuple[str, str]:
    """The source and thumbnails buckets, named as the template names them (account and region)."""
    session = aws_session(stack.region, stack.aws_endpoint)
    account = session.client("sts", endpoint_url=stack.aws_endpoint).get_caller_identity()["Account"]
    return f"sw-uploads-{account}-{stack.region}", f"sw-thumbnails-{account}-{stack.region}"


def run(stack: StackInfo, say: Callable[[str], None]) -> bool:
    session = aws_session(stack.region, stack.aws_endpoint)
    s3: Any = session.client("s3", endpoint_url=stack.aws_endpoint)
    logs: Any = session.client("logs", endpoint_url=stack.aws_endpoint)
    source, target = buckets(stack)
    run_id = uuid.uuid4().hex[:10]
    picture, notes = f"demo/{run_id}/photo.png", f"demo/{run_id}/notes.txt"

    s3.put_object(Bucket=source, Key=picture, Body=_png(1600, 900), ContentType="image/png")
    say(f"uploaded s3://{source}/{picture} (1600x900 PNG)")
    try:
        sizes = _wait(lambda: _thumbnail_sizes(s3, target, picture))
    except RetryError:
        say(f"no thumbnails in s3://{target} within {WAIT_S:.0f} s; see /aws/lambda/{FUNCTION}")
        return False
    for size, (width, height) in sizes.items():
        say(f"  s3://{target}/{thumbnail_key(size, picture)}: {width}x{height}")

    s3.put_object(Bucket=source, Key=notes, Body=b"not a picture\n", ContentType="text/plain")
    say(f"uploaded s3://{source}/{notes} (text)")
    try:
        errors = _wait(lambda: _error_lines(logs, notes))
    except RetryError:
        say(f"no error line for {notes} in /aws/lambda/{FUNCTION} within {WAIT_S:.0f} s")
        return False
    time.sleep(RETRY_WINDOW_S)
    errors = _error_lines(logs, notes)
    say(f"/aws/lambda/{FUNCTION}: {len(errors)} ERROR line(s) for it, error_code {errors[0]['error_code']}")
    leaked = [size for size in SIZES if _exists(s3, target, thumbnail_key(size, notes))]
    say("no thumbnails were written for it" if not leaked else f"thumbnails written for it: {leaked}")
    return len(errors) == 1 and not leaked


def _png(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def _exists(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError:
        return False
    return True


def _thumbnail_sizes(s3: Any, bucket: str, key: str) -> dict[int, tuple[int, int]] | None:
    if not all(_exists(s3, bucket, thumbnail_key(size, key)) for size in SIZES):
        return None
    found = {}
    for size in SIZES:
        body = s3.get_object(Bucket=bucket, Key=thumbnail_key(size, key))["Body"].read()
        found[size] = Image.open(io.BytesIO(body)).size
    return found


def _error_lines(logs: Any, key: str) -> list[dict[str, Any]]:
    try:
        pages = logs.get_paginator("filter_log_events").paginate(logGroupName=f"/aws/lambda/{FUNCTION}")
        lines = [
            json.loads(e["message"]) for page in pages for e in page["events"] if e["message"].startswith("{")
        ]
    except logs.exceptions.ResourceNotFoundException:
        return []
    return [line for line in lines if line.get("level") == "ERROR" and line.get("key") == key]


def _wait(probe: Callable[[], Any]) -> Any:
    retrying = Retrying(
        stop=stop_after_delay(WAIT_S), wait=wait_fixed(0.3), retry=retry_if_result(lambda found: not found)
    )
    return retrying(probe)
