"""One reconciliation at a time across processes: a PostgreSQL session advisory lock in the audit store.

The scheduler in ``sagawatch up``, a cron job and an operator's
``sagawatch reconcile`` may start together; two runs at once would race on
watermarks and findings. The lock is held on a connection of its own for
the length of the run, so it is released even if the process dies.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

LOCK_KEY = zlib.crc32(b"sagawatch:reconciler:run")


class RunLocked(RuntimeError):
    """Another reconciliation holds the lock (and kept it past the wait)."""


@contextmanager
def run_lock(audit_url: str, wait_s: float = 0.0, poll_s: float = 0.2) -> Iterator[None]:
    """Hold the reconciler's lock for the block; ``RunLocked`` if it stays taken for ``wait_s``."""
    with psycopg.connect(audit_url, autocommit=True) as conn:
        deadline = time.monotonic() + wait_s
        while True:
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()
            if row is not None and row[0]:
                break
            if time.monotonic() >= deadline:
                raise RunLocked(f"another reconciliation is running (waited {wait_s:.0f}s for it)")
            time.sleep(poll_s)
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
