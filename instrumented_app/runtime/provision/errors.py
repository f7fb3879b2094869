"""The one error provisioning raises, and the service errors it turns into it."""

from __future__ import annotations

import re

from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError


class ProvisioningError(RuntimeError):
    """The template could not be provisioned as declared; the message names the logical id(s)."""


#: What a call to the AWS API (moto) may raise. ``ResponseParserError`` is not a ``BotoCoreError``:
#: botocore raises it when moto's CloudFormation passes on another service's JSON error.
SERVICE_ERRORS: tuple[type[Exception], ...] = (ClientError, BotoCoreError, ResponseParserError)
#: A service error, or a property the template lacks (``KeyError`` while building a request).
CREATION_ERRORS: tuple[type[Exception], ...] = (*SERVICE_ERRORS, KeyError)

_JSON_ERROR = re.compile(r'"__type":\s*"(?:[^"#]*#)?(?P<type>[^"]+)",\s*"message":\s*"(?P<message>[^"]*)"')


def service_error(exc: Exception) -> str:
    """The service's own words. moto's CloudFormation passes on other services' JSON errors, which
    botocore (expecting XML) reports as a parse error with the JSON inside: that JSON is read back."""
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'Error')}: {error.get('Message', exc)}"
    found = _JSON_ERROR.search(str(exc))
    return f"{found['type']}: {found['message']}" if found else str(exc)
