"""The process-wide Logger and Metrics, built once from the function's environment."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

from instrumented_app.telemetry.config import TelemetryConfig
from instrumented_app.telemetry.log import build_logger

config: TelemetryConfig = TelemetryConfig.from_env()
logger: Logger = build_logger(config)
#: Powertools EMF metrics; the handler decorator adds the ``version`` dimension and flushes per invocation.
metrics: Metrics = Metrics(namespace=config.metrics_namespace, service=config.service)
