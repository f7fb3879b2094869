"""What can go wrong in a SaaS call, in words a saga can act on.

The saga needs to know two things about a failure: may the call be tried
again (``retryable``), and is its outcome known (``definite``: the SaaS said
no, so nothing was written; a timeout or a 5xx after retries leaves the write
possibly done, so a compensation must look for it).
"""

from __future__ import annotations

from instrumented_app.telemetry.masking import mask_text


class SaasError(Exception):
    """A call to ``system`` for ``operation`` failed; ``error_code`` is what log lines carry."""

    error_code = "SAAS_CALL_FAILED"
    #: True when the SaaS answered that it did not do the write (4xx): nothing to undo.
    definite = False
    retryable = False

    def __init__(self, system: str, operation: str, message: str, status: int | None = None) -> None:
        # Vendor error texts quote the input (an email "has already been taken"): masked here, once.
        self.message = mask_text(message)
        super().__init__(f"{system} {operation}: {self.message}")
        self.system = system
        self.operation = operation
        self.status = status


class SaasUnavailable(SaasError):
    """No usable answer: a timeout, a dropped connection, a 5xx or a 429.

    ``retryable`` says whether trying again is safe for this request;
    ``retry_after_s`` is the server's ``Retry-After``, when it sent one.
    An answer (5xx, 429) is ``definite``: these APIs, like the IETF
    Idempotency-Key draft, keep no result for a server error, so the write did
    not happen. No answer at all (timeout, dropped connection) is not.
    """

    error_code = "SAAS_UNAVAILABLE"

    def __init__(
        self,
        system: str,
        operation: str,
        message: str,
        *,
        status: int | None = None,
        retryable: bool,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(system, operation, message, status)
        self.retryable = retryable
        self.retry_after_s = retry_after_s
        self.definite = status is not None


class SaasRejected(SaasError):
    """The SaaS refused the request (4xx other than 404/429): invalid, duplicate, key reused."""

    error_code = "SAAS_REJECTED"
    definite = True


class SaasNotFound(SaasRejected):
    """404: the record (or the endpoint) does not exist."""

    error_code = "SAAS_NOT_FOUND"


class SaasResponseInvalid(SaasError):
    """The SaaS answered 2xx with a body that does not have the expected shape; names the field."""

    error_code = "SAAS_RESPONSE_INVALID"
