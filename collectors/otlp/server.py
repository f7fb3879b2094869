"""``TraceReceiver``: the OTLP/HTTP receiver as a part of the local stack (uvicorn in a thread).

The listening socket is bound here, before uvicorn starts, so that with port 0
the real port is known at once and there is no window in which another process
could take a port picked in advance.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time

import uvicorn

from collectors.otlp.app import create_app
from collectors.otlp.store import SpanStore

_START_TIMEOUT_S = 10.0
_STOP_TIMEOUT_S = 10.0


class TraceReceiver:
    """Receives spans over OTLP/HTTP on loopback and writes them to the audit store's ``spans`` table."""

    def __init__(self, audit_url: str, host: str = "127.0.0.1", port: int = 0) -> None:
        _require_loopback(host)
        if not 0 <= port <= 65535:
            raise ValueError(f"port must be 0..65535, got {port}")
        self._audit_url = audit_url
        self._host = host
        self._port = port
        self._store: SpanStore | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def base_url(self) -> str:
        """``http://host:port`` once started (what ``OTEL_EXPORTER_OTLP_ENDPOINT`` should be)."""
        if self._socket is None:
            raise RuntimeError("TraceReceiver is not started")
        host, port = self._socket.getsockname()[:2]
        return f"http://{host}:{port}"

    def start(self) -> str:
        """Connect to the audit store, start serving, and return the base URL once it accepts requests."""
        if self._thread is not None:
            raise RuntimeError("TraceReceiver is already started")
        store = SpanStore(self._audit_url)
        store.open()
        sock = _bind(self._host, self._port)
        config = uvicorn.Config(
            create_app(store),
            lifespan="off",
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=5,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="otlp-receiver", daemon=True
        )
        self._store, self._server, self._thread, self._socket = store, server, thread, sock
        thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"OTLP receiver did not start within {_START_TIMEOUT_S:.0f} s")
            time.sleep(0.01)
        return self.base_url

    def stop(self) -> None:
        """Stop serving (finishing requests in flight), then close the pool; safe to call twice."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(_STOP_TIMEOUT_S)
        if self._socket is not None:
            self._socket.close()
        if self._store is not None:
            self._store.close()
        self._server = self._thread = self._socket = self._store = None

    def __enter__(self) -> TraceReceiver:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def _require_loopback(host: str) -> None:
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError as exc:
        raise ValueError(f"host must be a loopback IP address, got {host!r}") from exc
    if not loopback:
        raise ValueError(f"host must be a loopback address (the receiver is local-only), got {host!r}")


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(f"OTLP receiver cannot bind {host}:{port}: {exc}") from exc
    sock.set_inheritable(True)
    return sock
