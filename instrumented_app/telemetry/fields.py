"""Binding the contract's optional log fields: saga fields while a saga runs, ``error_code`` on errors."""

from __future__ import annotations

from typing import Any

from opentelemetry import trace

from instrumented_app.telemetry.instances import logger


def bind_saga(*, saga_id: str, saga_type: str, saga_step: str | None = None) -> None:
    """Add ``saga_id``, ``saga_type`` (and ``saga_step``) to every following log line of this
    invocation and to the current span; call again with the next ``saga_step`` as the saga moves.

    The decorator clears them when the next invocation starts.
    """
    fields = {"saga_id": saga_id, "saga_type": saga_type}
    if saga_step is not None:
        fields["saga_step"] = saga_step
    logger.append_keys(**fields)
    trace.get_current_span().set_attributes(fields)


def log_error(
    message: str, *, error_code: str, exc_info: BaseException | bool | None = None, **fields: Any
) -> None:
    """One ERROR line carrying ``error_code`` (the field alarms filter on), plus any extra fields.

    ``exc_info`` adds the exception and its traceback, as ``logging`` does.
    """
    if not error_code:
        raise ValueError("error_code must be a non-empty string, e.g. 'SUPPORT_USER_CREATE_FAILED'")
    logger.error(message, exc_info=exc_info, stacklevel=3, extra={"error_code": error_code, **fields})
