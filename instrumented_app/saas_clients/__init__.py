"""Typed clients of the SaaS systems the customer saga writes to.

Each takes an ``httpx.Client`` (DESIGN.md "Transports, as httpx does it"):
unit tests pass ``httpx.MockTransport``, the app a client on the real base URL
(``open_clients(SaasEndpoints())``). Retries, headers, spans and error
classification are shared in ``caller.SaasCaller``.
"""

from instrumented_app.saas_clients.caller import SaasCaller, parse_retry_after
from instrumented_app.saas_clients.commerce import CommerceClient, CommerceCustomer, CommerceCustomerInput
from instrumented_app.saas_clients.endpoints import SaasClients, SaasEndpoints, open_clients
from instrumented_app.saas_clients.errors import (
    SaasError,
    SaasNotFound,
    SaasRejected,
    SaasResponseInvalid,
    SaasUnavailable,
)
from instrumented_app.saas_clients.membership import Member, MemberInput, MembershipClient
from instrumented_app.saas_clients.policy import RetryPolicy
from instrumented_app.saas_clients.support import SupportClient, SupportUser, SupportUserInput

__all__ = [
    "CommerceClient",
    "CommerceCustomer",
    "CommerceCustomerInput",
    "Member",
    "MemberInput",
    "MembershipClient",
    "RetryPolicy",
    "SaasCaller",
    "SaasClients",
    "SaasEndpoints",
    "SaasError",
    "SaasNotFound",
    "SaasRejected",
    "SaasResponseInvalid",
    "SaasUnavailable",
    "SupportClient",
    "SupportUser",
    "SupportUserInput",
    "open_clients",
    "parse_retry_after",
]
