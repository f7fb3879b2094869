"""S3 uploads -> thumbnails 128, 256 and 512 (``instrumented_app.fanout.thumbnails``) in a second bucket.

S3 invokes this function asynchronously: a raised error is retried (twice on
AWS, then dropped), so an error is raised only when a retry can help (S3 or the
network failing). An upload that can never become thumbnails (not an image, too
large, gone before it was read) is logged once as an ERROR with its
``error_code`` and the invocation returns normally: no retry repeats it.
"""

from __future__ import annotations

from functools import cache
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import S3Event

from instrumented_app.fanout.config import FanoutConfig
from instrumented_app.fanout.thumbnails import PermanentFailure, check_size, render, thumbnail_key
from instrumented_app.telemetry import instrumented, log_error, logger, metrics, tracer


@cache
def destination() -> tuple[Any, str]:
    config = FanoutConfig()  # read from the environment
    return config.client("s3"), config.require("thumbnails_bucket")


def make_thumbnails(s3: Any, source_bucket: str, key: str, size_bytes: int, target_bucket: str) -> list[str]:
    """Read the upload, write its thumbnails; the keys written. ``PermanentFailure`` when hopeless."""
    check_size(size_bytes)
    try:
        body = s3.get_object(Bucket=source_bucket, Key=key)["Body"].read()
    except s3.exceptions.NoSuchKey as exc:
        raise PermanentFailure("THUMBNAIL_SOURCE_GONE", "the upload was deleted before it was read") from exc
    written = []
    for thumb in render(body):
        target = thumbnail_key(thumb.size, key)
        s3.put_object(
            Bucket=target_bucket,
            Key=target,
            Body=thumb.body,
            ContentType=thumb.content_type,
            Metadata={"source-bucket": source_bucket, "source-key": key, "size": str(thumb.size)},
        )
        written.append(target)
    return written


@instrumented
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    s3, target_bucket = destination()
    made: dict[str, list[str]] = {}
    refused: dict[str, str] = {}
    for record in S3Event(event).records:
        bucket = record.s3.bucket.name
        key = unquote_plus(record.s3.get_object.key)
        with tracer.start_as_current_span("make thumbnails", attributes={"s3.bucket": bucket, "s3.key": key}):
            try:
                made[key] = make_thumbnails(s3, bucket, key, record.s3.get_object.size, target_bucket)
            except PermanentFailure as failure:
                log_error(
                    f"no thumbnails for {key}: {failure}",
                    error_code=failure.error_code,
                    bucket=bucket,
                    key=key,
                )
                refused[key] = failure.error_code
                continue
        metrics.add_metric(name="ThumbnailsCreated", unit=MetricUnit.Count, value=len(made[key]))
        logger.info("thumbnails written", extra={"bucket": bucket, "key": key, "thumbnails": made[key]})
    return {"thumbnails": made, "refused": refused}
