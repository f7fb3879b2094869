"""``SaasSimulators``: the three simulators, each on its own loopback port, in background threads.

The stack (``sagawatch up``) makes one, calls ``start()`` to learn the base
URLs it publishes in ``stack.json``, and ``stop()`` on the way out. Each
service runs a uvicorn server in a thread of its own, so a hanging (faulted)
call in one service never slows another. With a ``state_dir``, each
service's storage, keys, write log, faults and clock are written there as
JSON on stop and read back on start.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType

from instrumented_app.saas_sim import commerce, membership, support
from instrumented_app.saas_sim.gateway import build_app
from instrumented_app.saas_sim.service import SimService
from sagawatch.serving import LoopbackServer, ServerStartError, require_loopback

#: name -> factory of a fresh service; adding a simulator is one entry here.
SERVICES: dict[str, Callable[[], SimService]] = {
    support.NAME: support.create_service,
    commerce.NAME: commerce.create_service,
    membership.NAME: membership.create_service,
}


class SimulatorError(RuntimeError):
    """The simulators could not start (bad host, port taken, a server that never came up)."""


class SaasSimulators:
    """Start and stop the support, commerce and membership simulators on loopback."""

    def __init__(
        self, host: str = "127.0.0.1", ports: Mapping[str, int] | None = None, state_dir: Path | None = None
    ) -> None:
        try:
            require_loopback(host)
        except ValueError as exc:
            raise SimulatorError(str(exc)) from exc
        unknown = set(ports or {}) - set(SERVICES)
        if unknown:
            raise SimulatorError(f"ports: unknown simulator(s) {sorted(unknown)}; known: {sorted(SERVICES)}")
        self.host = host
        self.ports = dict(ports or {})
        self.state_dir = state_dir
        self.services: dict[str, SimService] = {name: factory() for name, factory in SERVICES.items()}
        self._running: dict[str, LoopbackServer] = {}

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
            running.stop()
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

    def _serve(self, service: SimService, port: int) -> LoopbackServer:
        # A short graceful shutdown: a faulted call may be hanging on purpose.
        server = LoopbackServer(build_app(service), self.host, port, name=service.name, graceful_shutdown_s=1)
        try:
            server.start()
        except ServerStartError as exc:
            raise SimulatorError(str(exc)) from exc
        return server

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
