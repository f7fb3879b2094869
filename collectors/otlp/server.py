"""``TraceReceiver``: the OTLP/HTTP receiver as a part of the local stack (uvicorn in a thread)."""

from __future__ import annotations

from collectors.otlp.app import create_app
from collectors.otlp.store import SpanStore
from sagawatch.serving import LoopbackServer, require_loopback


class TraceReceiver:
    """Receives spans over OTLP/HTTP on loopback and writes them to the audit store's ``spans`` table."""

    def __init__(self, audit_url: str, host: str = "127.0.0.1", port: int = 0) -> None:
        self._audit_url = audit_url
        self._host = host
        self._port = port
        require_loopback(host)
        self._store: SpanStore | None = None
        self._server: LoopbackServer | None = None

    @property
    def base_url(self) -> str:
        """``http://host:port`` once started (what ``OTEL_EXPORTER_OTLP_ENDPOINT`` should be)."""
        if self._server is None:
            raise RuntimeError("TraceReceiver is not started")
        return self._server.url

    def start(self) -> str:
        """Connect to the audit store, start serving, and return the base URL once it accepts requests."""
        if self._server is not None:
            raise RuntimeError("TraceReceiver is already started")
        store = SpanStore(self._audit_url)
        store.open()
        server = LoopbackServer(create_app(store), self._host, self._port, name="otlp-receiver")
        self._store, self._server = store, server
        try:
            return server.start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop serving (finishing requests in flight), then close the pool; safe to call twice."""
        if self._server is not None:
            self._server.stop()
        if self._store is not None:
            self._store.close()
        self._server = self._store = None

    def __enter__(self) -> TraceReceiver:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
