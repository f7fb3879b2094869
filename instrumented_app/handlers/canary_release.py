"""What the canary release of the customer read API is configured with, apart from the handler.

Pure and free of telemetry, so the demo (a CLI process) can read the same names
without instrumenting itself by importing a handler module.
"""

from __future__ import annotations

from collections.abc import Mapping

from instrumented_app.orders.model import faults_allowed

#: The function released as a canary, and the alias that weighs its versions.
FUNCTION = "sw-customer-read"
ALIAS = "live"
#: A version's share of invocations to fail on purpose (template parameter CanaryDefectRate).
DEFECT_RATE_ENV = "CANARY_DEFECT_RATE"
#: The response header naming the function version that served the request.
VERSION_HEADER = "X-Function-Version"


def defect_rate(environ: Mapping[str, str]) -> float:
    """The configured share of invocations to fail, 0 where test faults are off; a bad value is refused."""
    if not faults_allowed(dict(environ)):
        return 0.0
    raw = environ.get(DEFECT_RATE_ENV, "").strip() or "0"
    try:
        rate = float(raw)
    except ValueError:
        raise ValueError(f"{DEFECT_RATE_ENV}: must be a number from 0 to 1, got {raw!r}") from None
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"{DEFECT_RATE_ENV}: must be from 0 to 1, got {rate}")
    return rate
