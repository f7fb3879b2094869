"""``LocalInvoker``: the ``Invoker`` that runs handlers the way the Lambda service does.

One pool of execution environments (worker processes) per function version,
started lazily and reused while warm, at most ``max_environments`` at a time.
Each invocation's platform lines (START/END/REPORT) and handler output go to
CloudWatch Logs through a background shipper, which also turns EMF blobs into
CloudWatch metrics; the invoke path only queues them.

Use (``runtime/local.py`` wires it this way for ``sagawatch up``)::

    invoker = LocalInvoker(aws_endpoint="http://127.0.0.1:5000", region="us-east-1")
    uninstall = install_sfn_bridge(invoker)  # moto's Lambda Invoke (Step Functions tasks) -> handlers
    result = invoker.invoke("orders", {"order_id": "o-1"}, qualifier="live")
    if not result.ok:
        print(result.error.error_type, result.error.error_message)
    uninstall()
    invoker.close()  # stops the workers, then ships what is left to CloudWatch

Functions are read from moto's Lambda API and cached: call ``refresh(name)`` after
changing one. ``flush()`` waits until logs and metrics so far are in CloudWatch.
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.config import Config

from instrumented_app.runtime.catalog import FunctionCatalog, Target
from instrumented_app.runtime.emf import EmfMetricShipper
from instrumented_app.runtime.environment import (
    ExecutionEnvironment,
    Outcome,
    lambda_environment,
    log_stream_name,
    parent_python_path,
)
from instrumented_app.runtime.logs import LogEvent, LogShipper
from instrumented_app.runtime.pool import EnvironmentPool
from instrumented_app.runtime.types import FunctionSpec, InvocationError, InvocationResult
from instrumented_app.runtime.worker import MAX_PAYLOAD_BYTES

#: Extra wait for a free environment beyond the function's timeout (a busy one frees by then).
ACQUIRE_SLACK_S = 5.0


class LocalInvoker:
    """Implements ``Invoker`` against moto: specs from its Lambda API, logs and metrics into it."""

    def __init__(
        self,
        *,
        aws_endpoint: str,
        region: str,
        otlp_endpoint: str | None = None,
        extra_env: Mapping[str, str] | None = None,
        max_environments: int = 4,
        rng: random.Random | None = None,
        idle_timeout_s: float = 600.0,
    ) -> None:
        if max_environments < 1:
            raise ValueError(f"max_environments: must be at least 1, got {max_environments}")
        if idle_timeout_s <= 0:
            raise ValueError(f"idle_timeout_s: must be positive, got {idle_timeout_s}")
        self._aws_endpoint = aws_endpoint
        self._region = region
        self._otlp_endpoint = otlp_endpoint
        self._extra_env = dict(extra_env or {})
        self._max_environments = max_environments
        self._rng = rng or random.Random()
        self._python_path = parent_python_path()
        self.catalog = FunctionCatalog(self._client("lambda"))
        self.metrics = EmfMetricShipper(self._client("cloudwatch"))
        self.logs = LogShipper(self._client("logs"), consumers=[self.metrics])
        self._idle_timeout_s = idle_timeout_s
        self._pools: dict[tuple[str, str], EnvironmentPool[ExecutionEnvironment]] = {}
        self._pools_lock = threading.Lock()
        self._stopping = threading.Event()
        self._reaper = threading.Thread(target=self._reap_idle, name="environment-reaper", daemon=True)
        self._reaper.start()

    def _client(self, service: str) -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self._aws_endpoint,
            region_name=self._region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"max_attempts": 2, "mode": "standard"}, max_pool_connections=32),
        )

    def invoke(self, function_name: str, event: Any, *, qualifier: str | None = None) -> InvocationResult:
        try:
            event_json = json.dumps(event, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"event: not JSON-serialisable ({exc})") from exc
        # Random.random() is one C call under the GIL: safe to share between invoking threads.
        target = self.catalog.resolve(function_name, qualifier, self._rng)
        size = len(event_json.encode("utf-8"))
        if size > MAX_PAYLOAD_BYTES:
            message = (
                f"Request must be smaller than {MAX_PAYLOAD_BYTES} bytes for the Invoke operation ({size})"
            )
            error = InvocationError("RequestEntityTooLargeException", message)
            return InvocationResult(target.spec.name, target.version, str(uuid.uuid4()), None, error, 0.0)
        return self._run(target, event_json)

    def _run(self, target: Target, event_json: str) -> InvocationResult:
        spec, version = target.spec, target.version
        request_id = str(uuid.uuid4())
        pool = self._pool(spec, version)
        acquired = pool.acquire(spec.timeout_s + ACQUIRE_SLACK_S)
        if acquired is None:
            error = InvocationError("TooManyRequestsException", "Rate Exceeded.")
            return InvocationResult(spec.name, version, request_id, None, error, 0.0)
        env, cold = acquired
        started_ms = _now_ms()
        lines: list[LogEvent] = []
        init_ms: float | None = None
        outcome: Outcome | None = None
        if cold:
            init_start = time.monotonic()
            init = env.start()
            init_ms = (time.monotonic() - init_start) * 1000
            lines += _events(init.lines)
            if init.error is not None:
                lines.append(LogEvent(_now_ms(), _init_report(init, init_ms)))
                outcome = Outcome(error=init.error, environment_lost=True, lines=[])
        lines.append(LogEvent(_now_ms(), f"START RequestId: {request_id} Version: {version}"))
        start = time.monotonic()
        if outcome is None:
            outcome = env.invoke(request_id, event_json, target.invoked_arn, start + spec.timeout_s)
        duration_ms = (time.monotonic() - start) * 1000
        pool.release(env, reusable=not outcome.environment_lost)
        lines += _events(outcome.lines)
        lines += self._platform_end(request_id, spec, outcome, duration_ms, init_ms)
        self.logs.submit(f"/aws/lambda/{spec.name}", env.log_stream, _not_before(lines, started_ms))
        # The caller sees what this invocation printed; after a failed init, that is the init's output.
        printed = init.lines if cold and init.error is not None else outcome.lines
        return InvocationResult(
            function_name=spec.name,
            version=version,
            request_id=request_id,
            payload=None if outcome.error else outcome.payload,
            error=outcome.error,
            duration_ms=duration_ms,
            log_lines=tuple(line for _, line in printed),
        )

    @staticmethod
    def _platform_end(
        request_id: str, spec: FunctionSpec, outcome: Outcome, duration_ms: float, init_ms: float | None
    ) -> list[LogEvent]:
        now = _now_ms()
        lines = []
        if outcome.timed_out:
            stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
            lines.append(
                LogEvent(now, f"{stamp} {request_id} Task timed out after {spec.timeout_s:.2f} seconds")
            )
        lines.append(LogEvent(now, f"END RequestId: {request_id}"))
        report = (
            f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms"
            f"\tBilled Duration: {max(1, math.ceil(duration_ms))} ms\tMemory Size: {spec.memory_mb} MB"
            f"\tMax Memory Used: {outcome.rss_mb} MB"
        )
        if init_ms is not None:
            report += f"\tInit Duration: {init_ms:.2f} ms"
        if outcome.timed_out:
            report += "\tStatus: timeout"
        elif outcome.environment_lost and outcome.error is not None:
            report += f"\tStatus: error\tError Type: {outcome.error.error_type}"
        lines.append(LogEvent(now, report))
        return lines

    def _pool(self, spec: FunctionSpec, version: str) -> EnvironmentPool[ExecutionEnvironment]:
        key = (spec.name, version)
        with self._pools_lock:
            pool = self._pools.get(key)
            if pool is not None and pool.spec == spec:
                return pool
            # New, or the function changed since its environments started: start afresh, as Lambda does.
            fresh = EnvironmentPool(
                spec,
                version,
                self._max_environments,
                self._new_environment,
                idle_timeout_s=self._idle_timeout_s,
            )
            self._pools[key] = fresh
        if pool is not None:
            pool.close()
        return fresh

    def _new_environment(self, spec: FunctionSpec, version: str) -> ExecutionEnvironment:
        stream = log_stream_name(version)
        env = lambda_environment(
            spec,
            version,
            region=self._region,
            aws_endpoint=self._aws_endpoint,
            log_stream=stream,
            otlp_endpoint=self._otlp_endpoint,
            extra_env=self._extra_env,
            python_path=self._python_path,
        )
        return ExecutionEnvironment(spec, version, env, stream)

    def prewarm(self, function_name: str, *, qualifier: str | None = None, count: int = 1) -> int:
        """Have ``count`` initialised environments ready (like provisioned concurrency): first calls are warm.

        Environments that exist already count; the init output of new ones goes to the
        function's log, and one whose init fails is discarded (the next invoke reports the
        error). For a weighted alias, each environment is for a version picked by weight.
        Returns how many environments were started.
        """
        if not 1 <= count <= self._max_environments:
            raise ValueError(
                f"count: must be between 1 and max_environments ({self._max_environments}), got {count}"
            )
        held: list[tuple[EnvironmentPool[ExecutionEnvironment], ExecutionEnvironment, bool]] = []
        started = 0
        try:
            for _ in range(count):
                target = self.catalog.resolve(function_name, qualifier, self._rng)
                pool = self._pool(target.spec, target.version)
                acquired = pool.acquire(0)
                if acquired is None:
                    continue  # that version has all its environments already
                env, cold = acquired
                if not cold:
                    held.append((pool, env, True))  # held, so the next round starts another one
                    continue
                init = env.start()
                self.logs.submit(f"/aws/lambda/{target.spec.name}", env.log_stream, _events(init.lines))
                held.append((pool, env, init.error is None))
                started += init.error is None
        finally:
            for pool, env, reusable in held:
                pool.release(env, reusable)
        return started

    def refresh(self, function_name: str | None = None) -> None:
        """Re-read function configuration; environments whose configuration changed are replaced."""
        self.catalog.invalidate(function_name)

    def flush(self, timeout_s: float = 10.0) -> bool:
        """Wait until every log line and metric so far is in CloudWatch."""
        return self.logs.flush(timeout_s)

    def _reap_idle(self) -> None:
        """Every so often, shut down environments that have been idle past the timeout."""
        interval = max(0.05, min(30.0, self._idle_timeout_s / 4))
        while not self._stopping.wait(interval):
            with self._pools_lock:
                pools = list(self._pools.values())
            for pool in pools:
                pool.reap()

    def environments(self, function_name: str, version: str = "$LATEST") -> int:
        """How many execution environments of this function version are alive (idle or busy)."""
        with self._pools_lock:
            pool = self._pools.get((function_name, version))
        return 0 if pool is None else pool.size

    def close(self) -> None:
        """Stop every environment, then ship what is left."""
        self._stopping.set()
        self._reaper.join(timeout=5)
        with self._pools_lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()
        self.logs.close()

    def __enter__(self) -> LocalInvoker:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _init_report(init: Outcome, init_ms: float) -> str:
    """Lambda's line for a failed init phase."""
    assert init.error is not None
    status = "timeout" if init.timed_out else "error"
    return (
        f"INIT_REPORT Init Duration: {init_ms:.2f} ms\tPhase: init\tStatus: {status}"
        f"\tError Type: {init.error.error_type}"
    )


def _events(lines: list[tuple[int, str]]) -> list[LogEvent]:
    return [LogEvent(ts, line) for ts, line in lines]


def _now_ms() -> int:
    return int(time.time() * 1000)


def _not_before(lines: list[LogEvent], floor_ms: int) -> list[LogEvent]:
    """Keep events in order when a clock step puts a worker's stamp before START."""
    return [e if e.timestamp_ms >= floor_ms else LogEvent(floor_ms, e.message) for e in lines]
