"""boto3 sessions for the embedded stack and for real AWS, made the same way everywhere.

Against moto (an ``endpoint_url`` on loopback) any credentials work, so
placeholders are used rather than whatever the operator's environment holds:
real keys must never be sent to a local stand-in. Without an endpoint the
default credential chain applies, as on AWS.
"""

from __future__ import annotations

import boto3

#: What moto accepts; never real credentials.
LOCAL_ACCESS_KEY_ID = "testing"
LOCAL_SECRET_ACCESS_KEY = "testing"


def aws_session(region: str, endpoint_url: str | None = None) -> boto3.session.Session:
    """A session for ``endpoint_url`` (local placeholders) or for AWS (default chain) when it is None."""
    if endpoint_url:
        return boto3.session.Session(
            aws_access_key_id=LOCAL_ACCESS_KEY_ID,
            aws_secret_access_key=LOCAL_SECRET_ACCESS_KEY,
            region_name=region,
        )
    return boto3.session.Session(region_name=region)
