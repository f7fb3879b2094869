"""``SaasSimulators``: the three simulators, each on its own loopback port, in background threads.

The stack (``sagawatch up``) makes one, calls ``start()`` to learn the base
URLs it publishes in ``stack.json``, and ``stop()`` on the way out. Each
service runs a uvicorn server in a thread of its own, so a hanging (faulted)
call in one service never slows another. With a ``state_dir``, each
service's storage, keys, write log, faults and clock are written there as
JSON on stop and read back on start.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType

import uvicorn

from instrumented_app.saas_sim import commerce, membership, support
from instrumented_app.saas_sim.gateway import build_app
from instrumented_app.saas_sim.service import SimService

#: name -> factory of a fresh service; adding a simulator is one entry here.
SERVICES: dict[str, Callable[[], SimService]] = {
    support.NAME: support.create_service,
    commerce.NAME: commerce.create_service,
    membership.NAME: membership.create_service,
}

_START_TIMEOUT_S = 10.0
_STOP_TIMEOUT_S = 5.0


class SimulatorError(RuntimeError):
    """The simulators could not start (bad host, port taken, a server that never came up)."""


class _Running:
    def __init__(self, server: uvicorn.Server, thread: threading.Thread, url: str) -> None:
        self.server = server
        self.thread = thread
        self.url = url


class SaasSimulators:
    """Start and stop the support, commerce and membership simulators on loopback."""

    def __init__(
        self, host: str = "127.0.0.1", ports: Mapping[str, int] | None = None, state_dir: Path | None = None
    ) -> None:
        _require_loopback(host)
        unknown = set(ports or {}) - set(SERVICES)
        if unknown:
            raise SimulatorError(f"ports: unknown simulator(s) {sorted(unknown)}; known: {sorted(SERVICES)}")
        self.host = host
        self.ports = dict(ports or {})
        self.state_dir = state_dir
        self.services: dict[str, SimService] = {name: factory() for name, factory in SERVICES.items()}
        self._running: dict[str, _Running] = {}

    def start(self) -> dict[str, str]:
        """Serve every simulator; returns ``{name: base URL}``. Starting twice is an error."""
        if self._running:
            raise SimulatorError("the simulators are already running")
        self._load_state()
        try:
            for name, service in self.services.items():
                self._running[name] = self._serve(service, self.ports.get(name, 0))
        except BaseException:
            self.stop()
            raise
        return self.urls

    @property
    def urls(self) -> dict[str, str]:
        return {name: running.url for name, running in self._running.items()}

    def stop(self) -> None:
        """Stop every server (bounded wait) and save state when a ``state_dir`` was given."""
        for running in self._running.values():
            running.server.should_exit = True
        for running in self._running.values():
            running.thread.join(timeout=_STOP_TIMEOUT_S)
            if running.thread.is_alive():
                running.server.force_exit = True
                running.thread.join(timeout=_STOP_TIMEOUT_S)
        if self._running:
            self._save_state()
        self._running.clear()

    def __enter__(self) -> SaasSimulators:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _serve(self, service: SimService, port: int) -> _Running:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # IPPROTO_TCP, not 0: asyncio only sets TCP_NODELAY on sockets that say they are TCP, and without
        # it every answer (headers and body written apart) waits ~40 ms for a delayed ACK.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, port))
        except OSError as exc:
            sock.close()
            raise SimulatorError(f"{service.name}: cannot bind {self.host}:{port}: {exc}") from exc
        sock.listen(128)
        config = uvicorn.Config(
            build_app(service),
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name=f"saas-sim-{service.name}", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                raise SimulatorError(f"{service.name}: the server did not start within {_START_TIMEOUT_S}s")
            time.sleep(0.01)
        bound_port = sock.getsockname()[1]
        host = f"[{self.host}]" if ":" in self.host else self.host
        return _Running(server, thread, f"http://{host}:{bound_port}")

    def _state_file(self, name: str) -> Path | None:
        return None if self.state_dir is None else self.state_dir / f"{name}.json"

    def _load_state(self) -> None:
        for name, service in self.services.items():
            path = self._state_file(name)
            if path is not None and path.exists():
                service.restore(json.loads(path.read_text(encoding="utf-8")))

    def _save_state(self) -> None:
        for name, service in self.services.items():
            path = self._state_file(name)
            if path is None:
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps(service.snapshot()), encoding="utf-8")
            os.replace(tmp, path)


def _require_loopback(host: str) -> None:
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError as exc:
        raise SimulatorError(f"host: must be a loopback IP address, got {host!r}") from exc
    if not loopback:
        raise SimulatorError(f"host: the simulators serve loopback only, got {host!r}")
