"""sagawatch: observability and consistency audit for saga-based serverless integrations.

This package is the product shell: settings, the contracts every other package
shares (correlation id, log line, saga state), the CLI root and ``sagawatch up``.
It imports nothing of the other packages at module level, so each of them can
depend on it without cycles.
"""

__version__ = "0.1.0"
