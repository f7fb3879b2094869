"""Run one full reconciliation in this process and print its peak RSS: ``python -m ... AURORA AUDIT URLS``.

A separate process, so the figure is the reconciler's alone (not the test
runner's, nor the simulators' that serve it). The peak is read from
``/proc/self/status`` (``VmHWM``, this process image's high-water mark):
``getrusage``'s ``ru_maxrss`` survives ``exec`` on Linux, so a child of a
large test process would report its parent's peak.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from datetime import timedelta

from reconciler.config import Endpoints, ReconcileSettings
from reconciler.mapping import MAPPINGS
from reconciler.run import Mode, RunOptions
from reconciler.wiring import open_reconciler


def main(aurora_url: str, audit_url: str, urls_json: str) -> None:
    urls = json.loads(urls_json)
    systems = tuple(sorted(s for s in MAPPINGS if s in urls))
    began = time.monotonic()
    with open_reconciler(
        Endpoints(aurora_url, audit_url, urls), ReconcileSettings(grace_s=0), systems
    ) as rec:
        result = rec.run(RunOptions(mode=Mode.FULL, systems=systems, grace=timedelta(0)))
    peak_kib = _peak_rss_kib()
    print(
        json.dumps(
            {
                "peak_rss_mb": peak_kib / 1024,
                "seconds": time.monotonic() - began,
                "findings": result.finding_count,
                "errors": result.errors,
                "rows": {s.system: s.stats.aurora_rows for s in result.systems},
            }
        )
    )


def _peak_rss_kib() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1])
    except OSError:
        pass
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


if __name__ == "__main__":
    main(*sys.argv[1:4])
