"""moto in server mode, in this process, on loopback.

In-process rather than a child process so that the Step Functions bridge can
route moto's Lambda ``invoke`` to the local runtime's handlers (DESIGN.md).
"""

from __future__ import annotations

import logging
import os

import httpx
from moto.server import ThreadedMotoServer

from sagawatch.stack.moto_fixes import install_moto_fixes

#: moto config switches: run ASL for real, and never look for Docker to run Lambda code.
MOTO_CONFIG = {
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
}


class MotoServer:
    def __init__(self, host: str, port: int) -> None:
        self._server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
        self.endpoint = ""

    def start(self) -> str:
        # werkzeug logs one line per request to stderr; the stack's own output is what operators read.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        install_moto_fixes()
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        # moto's Step Functions calls its own Lambda API at localhost:$MOTO_PORT.
        os.environ["MOTO_PORT"] = str(port)
        httpx.post(f"{self.endpoint}/moto-api/config", json=MOTO_CONFIG, timeout=10).raise_for_status()
        return self.endpoint

    def reset(self) -> None:
        """Forget every resource. moto's backends are process-wide, so servers in one process share
        state: tests that start their own server reset it before and after."""
        httpx.post(f"{self.endpoint}/moto-api/reset", timeout=30).raise_for_status()
        httpx.post(f"{self.endpoint}/moto-api/config", json=MOTO_CONFIG, timeout=10).raise_for_status()

    def stop(self) -> None:
        self._server.stop()
