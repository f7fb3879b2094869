"""``python -m instrumented_app.saas_sim``: serve the three simulators alone until Ctrl-C or SIGTERM.

Prints ``{"support": url, "commerce": url, "membership": url}`` on one line
once they are up, so a script can read the ports it got.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from pathlib import Path

from instrumented_app.saas_sim.server import SERVICES, SaasSimulators


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m instrumented_app.saas_sim", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    for name in SERVICES:
        parser.add_argument(f"--{name}-port", type=int, default=0, help=f"{name} port (0: any free one)")
    parser.add_argument("--state-dir", type=Path, default=None, help="keep storage here across restarts")
    args = parser.parse_args(argv)

    ports = {name: getattr(args, f"{name}_port") for name in SERVICES}
    sims = SaasSimulators(host=args.host, ports=ports, state_dir=args.state_dir)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(json.dumps(sims.start()), flush=True)
    try:
        stop.wait()
    finally:
        sims.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
