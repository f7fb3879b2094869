"""The small interface every part of the local runtime meets at.

The API front, the pollers and the Step Functions bridge only ever call
``Invoker.invoke``; how a handler runs (worker processes, log shipping, EMF)
stays behind it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class FunctionSpec:
    """One function as the Lambda API describes it (read back from moto, never declared twice)."""

    name: str
    handler: str  # "package.module.attr", as in the template's Handler
    timeout_s: float = 3.0
    memory_mb: int = 128
    environment: dict[str, str] = field(default_factory=dict)
    arn: str = ""


@dataclass(frozen=True)
class InvocationError:
    """What Lambda reports for a failed invocation (``x-amz-function-error: Unhandled``)."""

    error_type: str
    error_message: str
    stack_trace: list[str] = field(default_factory=list)

    def as_payload(self) -> dict[str, Any]:
        return {
            "errorType": self.error_type,
            "errorMessage": self.error_message,
            "stackTrace": self.stack_trace,
        }


@dataclass(frozen=True)
class InvocationResult:
    function_name: str
    version: str  # the version that ran: "$LATEST", "1", "2" ...
    request_id: str
    payload: Any  # the handler's return value (JSON-compatible); None when it failed
    error: InvocationError | None
    duration_ms: float
    log_lines: tuple[str, ...] = ()  # what the handler wrote to stdout, one entry per line

    @property
    def ok(self) -> bool:
        return self.error is None


class Invoker(Protocol):
    def invoke(self, function_name: str, event: Any, *, qualifier: str | None = None) -> InvocationResult:
        """Run one invocation synchronously (``RequestResponse``).

        ``function_name`` may be a name or an ARN; ``qualifier`` a version or an
        alias (an alias with ``AdditionalVersionWeights`` picks a version by
        weight). A handler exception or a timeout is an ``InvocationResult``
        with ``error`` set, never an exception here; an unknown function raises
        ``LookupError``.
        """
        ...
