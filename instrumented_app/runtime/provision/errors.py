"""The one error provisioning raises: it names the resource and what is wrong with it."""

from __future__ import annotations


class ProvisioningError(RuntimeError):
    """The template could not be provisioned as declared; the message names the logical id(s)."""
