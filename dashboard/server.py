"""``DashboardServer``: the Streamlit app as a subprocess on loopback, for ``sagawatch up`` and the CLI.

Streamlit owns its event loop and a process-wide runtime, so it runs as ``streamlit run`` in a child
process rather than in a thread: starting waits (bounded) until its health endpoint answers, stopping
terminates the child's process group and waits for it. The child learns where the audit store is from
``SAGAWATCH_AUDIT_URL`` and where the stack is (for actions through the CLI) from ``SAGAWATCH_HOME``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from dashboard.db import AUDIT_URL_ENV
from sagawatch.serving import ServerStartError, require_loopback

APP_SCRIPT = Path(__file__).with_name("app.py")
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
POLL_INTERVAL_S = 0.2


def free_port(host: str) -> int:
    """A port the OS says is free on ``host`` now (Streamlit takes a number, not a bound socket)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def streamlit_command(host: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP_SCRIPT),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
        "--server.fileWatcherType",
        "none",
        "--client.toolbarMode",
        "viewer",
    ]


class DashboardServer:
    """The dashboard on ``http://host:port`` reading ``audit_url``; ``start() -> url``, ``stop()``.

    ``env`` is added to the child's environment (e.g. ``SAGAWATCH_OPERATOR``, whom its actions are
    recorded for), so a caller configures it without changing its own process's environment.
    """

    def __init__(
        self,
        audit_url: str,
        host: str = "127.0.0.1",
        port: int = 0,
        stack_file: Path | None = None,
        *,
        log_path: Path | None = None,
        start_timeout_s: float = START_TIMEOUT_S,
        env: Mapping[str, str] | None = None,
    ) -> None:
        require_loopback(host)
        if not 0 <= port <= 65535:
            raise ValueError(f"port: must be 0..65535, got {port}")
        if not audit_url:
            raise ValueError("audit_url: must be a PostgreSQL URL, got an empty string")
        self._audit_url = audit_url
        self._host = host
        self._port = port
        self._stack_file = stack_file
        self._log_path = log_path
        self._start_timeout_s = start_timeout_s
        self._extra_env = dict(env or {})
        self._process: subprocess.Popen[bytes] | None = None
        self.url = ""

    @property
    def log_path(self) -> Path | None:
        return self._log_path

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _environment(self) -> dict[str, str]:
        env = {**os.environ, **self._extra_env, AUDIT_URL_ENV: self._audit_url, "PYTHONUNBUFFERED": "1"}
        if self._stack_file is not None:
            env["SAGAWATCH_HOME"] = str(self._stack_file.parent)
        return env

    def start(self) -> str:
        """Run ``streamlit run`` and return its URL once ``/_stcore/health`` answers ``ok``."""
        if self._process is not None:
            raise ServerStartError(f"dashboard: already running at {self.url}")
        port = self._port or free_port(self._host)
        if self._log_path is None:
            folder = self._stack_file.parent if self._stack_file else Path(tempfile.mkdtemp(prefix="dash-"))
            self._log_path = folder / "dashboard.log"
        self._log_path.parent.mkdir(parents=True, exist_ok=True)
        with self._log_path.open("ab") as log:
            self._process = subprocess.Popen(
                streamlit_command(self._host, port),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self._environment(),
                start_new_session=True,  # its own process group: stop() ends Streamlit and its children
            )
        self.url = f"http://{self._host}:{port}"
        try:
            self._wait_healthy()
        except ServerStartError:
            self.stop()
            raise
        return self.url

    def _wait_healthy(self) -> None:
        assert self._process is not None
        deadline = time.monotonic() + self._start_timeout_s
        with httpx.Client(timeout=2.0, trust_env=False) as client:
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    raise ServerStartError(
                        f"dashboard: streamlit exited with {self._process.returncode}; see {self._log_path}"
                    )
                try:
                    if client.get(f"{self.url}/_stcore/health").text.strip() == "ok":
                        return
                except httpx.HTTPError:
                    pass
                time.sleep(POLL_INTERVAL_S)
        raise ServerStartError(
            f"dashboard: no answer on {self.url} within {self._start_timeout_s:.0f} s; see {self._log_path}"
        )

    def stop(self) -> None:
        """Terminate the Streamlit process group, then kill it if it lingers; safe twice."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        _signal_group(process, signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait(timeout=STOP_TIMEOUT_S)


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
