"""One way to serve an ASGI app on loopback from a background thread.

The API front, the SaaS simulators and the OTLP receiver all need the same
few careful steps, so they live here once:

- the listening socket is bound before uvicorn starts, so that with port 0 the
  real port is known at once and no other process can take a port picked in
  advance;
- it is created with ``IPPROTO_TCP`` explicitly: asyncio sets ``TCP_NODELAY``
  on accepted connections only when the listening socket says it is TCP, and
  without it each answer (headers and body written apart) waits ~40 ms for a
  delayed ACK;
- only loopback addresses are accepted: these are local stand-ins, never
  services for a network.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time

import uvicorn
from starlette.types import ASGIApp

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0


class ServerStartError(RuntimeError):
    """The server could not bind or did not come up; the message names it and the address."""


def require_loopback(host: str, what: str = "host") -> None:
    """Refuse anything but a loopback address (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError as exc:
        raise ValueError(f"{what}: must be a loopback IP address, got {host!r}") from exc
    if not loopback:
        raise ValueError(f"{what}: local servers bind loopback only, got {host!r}")


class LoopbackServer:
    """``app`` served by uvicorn on ``host:port`` in a daemon thread named ``name``."""

    def __init__(
        self,
        app: ASGIApp,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        name: str,
        graceful_shutdown_s: int = 5,
    ) -> None:
        require_loopback(host)
        if not 0 <= port <= 65535:
            raise ValueError(f"port: must be 0..65535, got {port}")
        self.name = name
        self._app = app
        self._host = host
        self._port = port
        self._graceful_shutdown_s = graceful_shutdown_s
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.url = ""

    @property
    def started(self) -> bool:
        return self._server is not None

    def start(self) -> str:
        """Bind, serve, and return the base URL (``http://127.0.0.1:PORT``) once it accepts requests."""
        if self._server is not None:
            raise ServerStartError(f"{self.name}: already running at {self.url}")
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self._host, self._port))
            sock.listen(1024)
        except OSError as exc:
            sock.close()
            raise ServerStartError(f"{self.name}: cannot bind {self._host}:{self._port}: {exc}") from exc
        config = uvicorn.Config(
            self._app,
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=self._graceful_shutdown_s,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=self.name, daemon=True)
        thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                thread.join(STOP_TIMEOUT_S)
                sock.close()
                raise ServerStartError(f"{self.name}: did not start within {START_TIMEOUT_S:.0f} s")
            time.sleep(0.01)
        self._server, self._thread, self._socket = server, thread, sock
        host = f"[{self._host}]" if ":" in self._host else self._host
        self.url = f"http://{host}:{sock.getsockname()[1]}"
        return self.url

    def stop(self) -> None:
        """Stop accepting, let requests in flight finish (bounded), release the port; safe twice."""
        if self._server is None:
            return
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT_S)
            if self._thread.is_alive():
                self._server.force_exit = True
                self._thread.join(STOP_TIMEOUT_S)
        if self._socket is not None:
            self._socket.close()
        self._server = self._thread = self._socket = None
