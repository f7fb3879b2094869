"""Text PostgreSQL can store: no NUL, no lone surrogate (what a JSON escape such as ``\\ud800`` yields).

One such character in a row fails its whole batch, and since the source still holds it, the same
batch on every pass after: collected text that may carry one goes through ``storable`` first.
"""

from __future__ import annotations

import re

UNSTORABLE = re.compile("[\\x00\\ud800-\\udfff]")
REPLACEMENT = "\ufffd"


def storable(text: str) -> str:
    """``text`` with NUL and lone surrogates replaced by U+FFFD."""
    return UNSTORABLE.sub(REPLACEMENT, text)
