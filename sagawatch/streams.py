"""A stdout that is looked up at each write, for loggers made at import time."""

from __future__ import annotations

import sys


class CurrentStdout:
    """Writes to whatever ``sys.stdout`` is at the time of writing.

    A stream captured at import would miss a runtime (or test) that redirects
    stdout later, while EMF metrics, written with ``print``, would follow it.
    """

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()
