"""One execution environment seen from the parent: a worker process, its pipes, its log stream.

Lambda keeps one execution environment per concurrent invocation of a function
version and reuses it while it stays warm. Here an environment is a child process
running ``instrumented_app.runtime.worker``; it is started lazily (the cold start,
reported as ``Init Duration``), killed when an invocation outlives the function's
timeout, and thrown away when the handler crashes the process.
"""

from __future__ import annotations

import json
import os
import secrets
import select
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from instrumented_app.runtime.types import FunctionSpec, InvocationError
from instrumented_app.runtime.worker import HEADER, MAX_FRAME_BYTES, write_all

#: Lambda gives the init phase 10 s of its own; a slower function timeout widens it.
INIT_LIMIT_S = 10.0
#: How long a worker gets to exit by itself once its input is closed, before it is killed.
EXIT_GRACE_S = 1.0


def log_stream_name(version: str, now: datetime | None = None, token: str | None = None) -> str:
    """A stream name shaped like Lambda's: ``2026/11/24/[$LATEST]<32 hex>``."""
    day = (now or datetime.now(UTC)).strftime("%Y/%m/%d")
    return f"{day}/[{version}]{token or secrets.token_hex(16)}"


def lambda_environment(
    spec: FunctionSpec,
    version: str,
    *,
    region: str,
    aws_endpoint: str,
    log_stream: str,
    otlp_endpoint: str | None = None,
    extra_env: Mapping[str, str] | None = None,
    python_path: str = "",
) -> dict[str, str]:
    """The variables a worker starts with: the function's own plus those the Lambda service sets.

    The parent's environment is not inherited (each function sees only its own
    variables, as on Lambda), except ``PATH``/``HOME``/locale so Python runs.
    """
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "LC_ALL", "TZ") if key in os.environ}
    env.update(spec.environment)
    env.update(
        {
            "_HANDLER": spec.handler,
            "AWS_LAMBDA_FUNCTION_NAME": spec.name,
            "AWS_LAMBDA_FUNCTION_VERSION": version,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{spec.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_python{sys.version_info.major}.{sys.version_info.minor}",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            "AWS_ENDPOINT_URL": aws_endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "PYTHONUNBUFFERED": "1",
        }
    )
    if python_path:
        env["PYTHONPATH"] = python_path
    if otlp_endpoint:
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp_endpoint
    if extra_env:
        env.update(extra_env)
    return env


def parent_python_path() -> str:
    """The parent's import roots that are not the interpreter's own, so the repo's packages import."""
    prefixes = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    roots: list[str] = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    for entry in sys.path:
        path = os.path.realpath(entry or os.getcwd())
        if os.path.isdir(path) and not any(path.startswith(prefix) for prefix in prefixes):
            roots.append(path)
    return os.pathsep.join(dict.fromkeys(roots))


@dataclass
class Outcome:
    """What one invocation produced, before it becomes an ``InvocationResult``."""

    payload: Any = None
    error: InvocationError | None = None
    lines: list[tuple[int, str]] = field(default_factory=list)  # (epoch ms, line)
    rss_mb: int = 0
    timed_out: bool = False
    environment_lost: bool = False  # the worker is gone (killed, crashed): do not reuse it


class FrameReader:
    """Reads whole frames from a pipe, giving up at a deadline (``None``) or on EOF (``EOFError``)."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._buffer = bytearray()
        self._poll = select.poll()
        self._poll.register(fd, select.POLLIN)

    def read(self, deadline: float) -> dict[str, Any] | None:
        while True:
            frame = self._take()
            if frame is not None:
                return frame
            remaining_ms = (deadline - time.monotonic()) * 1000
            if remaining_ms <= 0 or not self._poll.poll(max(1, int(remaining_ms))):
                if time.monotonic() >= deadline:
                    return None
                continue
            chunk = os.read(self._fd, 1 << 16)
            if not chunk:
                raise EOFError("worker closed its output")
            self._buffer += chunk

    def _take(self) -> dict[str, Any] | None:
        if len(self._buffer) < HEADER.size:
            return None
        (size,) = HEADER.unpack_from(self._buffer)
        if size > MAX_FRAME_BYTES:
            raise EOFError(f"worker sent a {size} byte frame, over the {MAX_FRAME_BYTES} byte limit")
        end = HEADER.size + size
        if len(self._buffer) < end:
            return None
        frame: dict[str, Any] = json.loads(self._buffer[HEADER.size : end])
        del self._buffer[:end]
        return frame


class ExecutionEnvironment:
    """A worker process running one function version's handler, one invocation at a time."""

    def __init__(self, spec: FunctionSpec, version: str, env: Mapping[str, str], log_stream: str) -> None:
        self.spec = spec
        self.version = version
        self.log_stream = log_stream
        self._env = dict(env)
        self._process: subprocess.Popen[bytes] | None = None
        self._to_worker = -1
        self._reader: FrameReader | None = None
        self._from_worker = -1

    def start(self) -> Outcome:
        """Start the worker and wait for its init; the outcome carries init lines and any init error."""
        request_r, request_w = os.pipe()
        reply_r, reply_w = os.pipe()
        command = [sys.executable, "-m", "instrumented_app.runtime.worker"]
        command += ["--in-fd", str(request_r), "--out-fd", str(reply_w)]
        try:
            self._process = subprocess.Popen(
                command,
                env=self._env,
                pass_fds=(request_r, reply_w),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                start_new_session=True,  # Ctrl-C reaches the parent, which shuts workers down in order
            )
        finally:
            os.close(request_r)
            os.close(reply_w)
        self._to_worker, self._from_worker = request_w, reply_r
        self._reader = FrameReader(reply_r)
        limit = max(INIT_LIMIT_S, self.spec.timeout_s)
        outcome = self._collect(time.monotonic() + limit, "ready", "init_error")
        if outcome.timed_out:
            outcome.error = InvocationError("Sandbox.Timedout", f"Init timed out after {limit:.2f} seconds")
        elif outcome.environment_lost and outcome.error is None:
            outcome.error = InvocationError(
                "Runtime.ExitError", f"Runtime exited during init: {self._status()}"
            )
        return outcome

    def invoke(self, request_id: str, event_json: str, invoked_arn: str, deadline: float) -> Outcome:
        """Send one event and wait for the handler, killing the worker if it passes ``deadline``."""
        deadline_ms = int((time.time() + (deadline - time.monotonic())) * 1000)
        body = f'{{"request_id":{json.dumps(request_id)},"invoked_arn":{json.dumps(invoked_arn)},'
        body += f'"deadline_ms":{deadline_ms},"event":{event_json}}}'
        data = body.encode("utf-8")
        try:
            write_all(self._to_worker, HEADER.pack(len(data)) + data)
        except OSError:
            return self._lost(request_id, Outcome())
        outcome = self._collect(deadline, "result", "error")
        if outcome.timed_out:
            seconds = f"{self.spec.timeout_s:.2f}"
            message = f"RequestId: {request_id} Error: Task timed out after {seconds} seconds"
            outcome.error = InvocationError("Sandbox.Timedout", message)
        elif outcome.environment_lost and outcome.error is None:
            self._lost(request_id, outcome)
        return outcome

    def _lost(self, request_id: str, outcome: Outcome) -> Outcome:
        outcome.environment_lost = True
        message = f"RequestId: {request_id} Error: Runtime exited with error: {self._status()}"
        outcome.error = InvocationError("Runtime.ExitError", message)
        return outcome

    def _collect(self, deadline: float, ok_type: str, error_type: str) -> Outcome:
        assert self._reader is not None, "start() first"
        outcome = Outcome()
        while True:
            try:
                frame = self._reader.read(deadline)
            except EOFError:
                outcome.environment_lost = True
                return outcome
            if frame is None:
                outcome.rss_mb = self._peak_rss_mb()
                self.kill()
                outcome.timed_out = outcome.environment_lost = True
                return outcome
            kind = frame.get("t")
            if kind == "log":
                outcome.lines.append((int(frame["ts"]), str(frame["line"])))
                continue
            outcome.rss_mb = int(frame.get("rss_kb", 0)) // 1024
            if kind == ok_type:
                outcome.payload = frame.get("payload")
            elif kind == error_type:
                err = frame["error"]
                outcome.error = InvocationError(
                    err["errorType"], err["errorMessage"], list(err["stackTrace"])
                )
                outcome.environment_lost = kind == "init_error"
            else:
                raise RuntimeError(f"worker sent an unknown frame type {kind!r}")
            return outcome

    def _peak_rss_mb(self) -> int:
        """The worker's peak memory, read before it is killed (Linux ``/proc``; 0 elsewhere)."""
        if self._process is None:
            return 0
        try:
            with open(f"/proc/{self._process.pid}/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return int(line.split()[1]) // 1024
        except OSError:
            pass
        return 0

    def _status(self) -> str:
        if self._process is None:
            return "not started"
        try:
            code = self._process.wait(timeout=EXIT_GRACE_S)
        except subprocess.TimeoutExpired:
            self.kill()
            code = self._process.wait()
        return f"signal: {-code}" if code < 0 else f"exit status {code}"

    def kill(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self._close_pipes()

    def close(self) -> None:
        """Shut down: closing the worker's input ends its loop; kill it if it does not exit in time."""
        if self._to_worker >= 0:
            os.close(self._to_worker)
            self._to_worker = -1
        if self._process is not None:
            try:
                self._process.wait(timeout=EXIT_GRACE_S)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._close_pipes()

    def _close_pipes(self) -> None:
        for fd in (self._to_worker, self._from_worker):
            if fd >= 0:
                os.close(fd)
        self._to_worker = self._from_worker = -1
