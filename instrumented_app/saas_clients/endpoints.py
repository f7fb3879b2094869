"""Where the SaaS systems are: base URLs from the environment, and clients built on them.

Locally ``sagawatch up`` sets ``SAGAWATCH_SUPPORT_URL`` and friends for every
function; on AWS the template passes its parameters under the same names. The
``httpx.Client`` per system is made here, at the edge, and handed to the
clients, which never build their own.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from types import TracebackType

import httpx
from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from instrumented_app.saas_clients.commerce import CommerceClient
from instrumented_app.saas_clients.membership import MembershipClient
from instrumented_app.saas_clients.policy import RetryPolicy
from instrumented_app.saas_clients.support import SupportClient


class SaasEndpoints(BaseSettings):
    """The three base URLs; a missing one is an error naming its variable."""

    model_config = SettingsConfigDict(env_prefix="SAGAWATCH_", extra="ignore")

    support_url: str = Field(min_length=1, description="SAGAWATCH_SUPPORT_URL: the support desk.")
    commerce_url: str = Field(min_length=1, description="SAGAWATCH_COMMERCE_URL: the shop.")
    membership_url: str = Field(min_length=1, description="SAGAWATCH_MEMBERSHIP_URL: the member API.")

    @classmethod
    def from_env(cls) -> SaasEndpoints:
        """Read the environment; a missing or empty URL is a ``ValueError`` naming its variable."""
        try:
            return cls()
        except ValidationError as exc:
            names = sorted({f"SAGAWATCH_{str(err['loc'][0]).upper()}" for err in exc.errors() if err["loc"]})
            raise ValueError(f"SaaS base URLs not configured: set {', '.join(names)}") from exc


@dataclass
class SaasClients:
    """One client per system, sharing nothing but the retry policy; close it to close the connections."""

    support: SupportClient
    commerce: CommerceClient
    membership: MembershipClient
    _stack: ExitStack

    def close(self) -> None:
        self._stack.close()

    def __enter__(self) -> SaasClients:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def open_clients(endpoints: SaasEndpoints, policy: RetryPolicy | None = None) -> SaasClients:
    """Clients on pooled connections to each base URL (kept open across Lambda invocations)."""
    policy = policy or RetryPolicy()
    stack = ExitStack()

    def http(base_url: str) -> httpx.Client:
        return stack.enter_context(httpx.Client(base_url=base_url, timeout=policy.timeout))

    return SaasClients(
        support=SupportClient(http(endpoints.support_url), policy),
        commerce=CommerceClient(http(endpoints.commerce_url), policy),
        membership=MembershipClient(http(endpoints.membership_url), policy),
        _stack=stack,
    )
