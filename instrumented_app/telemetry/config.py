"""What the telemetry needs to know about the function it runs in, read once from the environment.

The Lambda service (or the local runtime, which copies it) sets these variables
before the handler module is imported, so reading them at import time is as
late as it needs to be.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_METRICS_NAMESPACE = "sagawatch"


@dataclass(frozen=True)
class TelemetryConfig:
    service: str
    function_name: str
    function_version: str
    region: str | None
    metrics_namespace: str
    #: The full URL spans are POSTed to, or None for "no exporter" (spans stay in-process).
    traces_endpoint: str | None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TelemetryConfig:
        env = os.environ if environ is None else environ
        function_name = env.get("AWS_LAMBDA_FUNCTION_NAME", "")
        return cls(
            service=env.get("POWERTOOLS_SERVICE_NAME") or function_name or "service_undefined",
            function_name=function_name,
            function_version=env.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
            region=env.get("AWS_REGION") or None,
            metrics_namespace=env.get("POWERTOOLS_METRICS_NAMESPACE") or DEFAULT_METRICS_NAMESPACE,
            traces_endpoint=traces_endpoint(env),
        )


def traces_endpoint(env: Mapping[str, str]) -> str | None:
    """The OTLP/HTTP traces URL as the OpenTelemetry spec derives it.

    ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` is used as given; the general
    ``OTEL_EXPORTER_OTLP_ENDPOINT`` is a base URL that gets ``/v1/traces``.
    """
    specific = env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip()
    if specific:
        return specific
    base = env.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
    if base:
        return base.rstrip("/") + "/v1/traces"
    return None
