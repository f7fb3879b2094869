"""Canary control: the weighted alias read, re-weighted, promoted or rolled back, each change audited.

A Lambda alias routes to its ``FunctionVersion`` and, through
``RoutingConfig.AdditionalVersionWeights``, sends a share of invocations to one more version: that
version is the canary. Every change goes through ``UpdateAlias`` (the same call on AWS and on moto)
and returns an ``AuditRecord`` -- who, what, when, the alias before and after -- which is also
written as one JSON line to the ``sagawatch.audit`` logger. Persisting it into the audit store is
the dashboard's part; the record is the contract.
"""

from __future__ import annotations

import getpass
import json
import logging
import math
import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict, Field

audit_log = logging.getLogger("sagawatch.audit")

#: Who acts, when the OS user is not the name an operator goes by.
OPERATOR_ENV = "SAGAWATCH_OPERATOR"

Action = Literal["set_weight", "promote", "rollback"]


class CanaryControlError(Exception):
    """A change the Lambda API refused, or one that makes no sense for this alias; the text says which."""


class AliasState(BaseModel):
    """An alias as routing sees it: the primary version and, when a canary runs, its version and weight."""

    model_config = ConfigDict(frozen=True)

    function: str
    alias: str
    primary_version: str
    canary_version: str | None = None
    canary_weight: float = Field(default=0.0, ge=0.0, le=1.0)

    @classmethod
    def from_api(cls, function: str, answer: dict[str, Any]) -> AliasState:
        """From a ``GetAlias`` / ``UpdateAlias`` answer. AWS allows one additional version."""
        weights = (answer.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        canary = next(iter(weights.items()), None)
        return cls(
            function=function,
            alias=str(answer["Name"]),
            primary_version=str(answer["FunctionVersion"]),
            canary_version=None if canary is None else str(canary[0]),
            canary_weight=0.0 if canary is None else float(canary[1]),
        )


class AuditRecord(BaseModel):
    """One operator action on an alias: what the dashboard's audit log shows."""

    model_config = ConfigDict(frozen=True)

    who: str
    what: Action
    when: datetime
    function: str
    alias: str
    before: AliasState
    after: AliasState
    detail: str


def operator_name() -> str:
    """``SAGAWATCH_OPERATOR`` when set, else the OS user."""
    configured = os.environ.get(OPERATOR_ENV, "").strip()
    if configured:
        return configured
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry for the uid, as in some containers
        return f"uid:{os.getuid()}"


def validate_weight(weight: float) -> float:
    """A canary weight as ``UpdateAlias`` accepts it: a finite number from 0 to 1."""
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not math.isfinite(weight):
        raise ValueError(f"weight: must be a number from 0 to 1, got {weight!r}")
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"weight: must be from 0 to 1 (a share of invocations), got {weight}")
    return float(weight)


def _require_name(argument: str, value: str) -> str:
    if not value or not value.strip():
        raise ValueError(f"{argument}: must not be empty")
    return value


class CanaryControl:
    """Reads and changes one account's aliases through a boto3 Lambda client (AWS or moto)."""

    def __init__(
        self,
        lambda_client: Any,
        *,
        operator: str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._client = lambda_client
        self._operator = operator
        self._clock = clock

    def status(self, function: str, alias: str = "live") -> AliasState:
        """The alias's routing now."""
        _require_name("function", function)
        _require_name("alias", alias)
        answer = self._call("GetAlias", self._client.get_alias, FunctionName=function, Name=alias)
        return AliasState.from_api(function, answer)

    def set_weight(
        self, function: str, alias: str, weight: float, *, version: str | None = None
    ) -> AuditRecord:
        """Send ``weight`` (0..1) of the alias's invocations to the canary version.

        ``version`` names the canary; without it the alias's current canary keeps the role.
        """
        weight = validate_weight(weight)
        before = self.status(function, alias)
        canary = version or before.canary_version
        if canary is None:
            raise ValueError(
                f"version: alias {alias!r} of {function!r} routes only to version "
                f"{before.primary_version}; name the canary version to send traffic to"
            )
        if canary == before.primary_version:
            raise ValueError(f"version: {canary} is already the alias's primary version, not a canary")
        # AWS refuses a weight for a version that does not exist; moto accepts it: ask first, on both.
        self._call(
            "GetFunctionConfiguration",
            self._client.get_function_configuration,
            FunctionName=function,
            Qualifier=canary,
        )
        after = self._update(function, alias, before.primary_version, {canary: weight})
        detail = f"canary version {canary} weight {before.canary_weight:g} -> {weight:g}"
        return self._record("set_weight", before, after, detail)

    def promote(self, function: str, alias: str = "live") -> AuditRecord:
        """Point the alias at the canary version and clear the weights: all traffic to it."""
        before = self.status(function, alias)
        if before.canary_version is None:
            raise CanaryControlError(
                f"nothing to promote: alias {alias!r} of {function!r} has no canary version "
                f"(all traffic goes to version {before.primary_version})"
            )
        after = self._update(function, alias, before.canary_version, {})
        detail = (
            f"version {before.canary_version} promoted; version {before.primary_version} no longer routed"
        )
        return self._record("promote", before, after, detail)

    def rollback(self, function: str, alias: str = "live") -> AuditRecord:
        """Take the canary out of routing: all traffic back to the primary version.

        Rolling back an alias that has no canary changes nothing and is still recorded, so an
        operator who presses the button twice sees two entries rather than an error.
        """
        before = self.status(function, alias)
        if before.canary_version is None:
            return self._record("rollback", before, before, "no canary version was routed; nothing changed")
        after = self._update(function, alias, before.primary_version, {})
        detail = (
            f"canary version {before.canary_version} (weight {before.canary_weight:g}) removed; "
            f"all traffic to version {before.primary_version}"
        )
        return self._record("rollback", before, after, detail)

    def _update(self, function: str, alias: str, primary: str, weights: dict[str, float]) -> AliasState:
        answer = self._call(
            "UpdateAlias",
            self._client.update_alias,
            FunctionName=function,
            Name=alias,
            FunctionVersion=primary,
            RoutingConfig={"AdditionalVersionWeights": weights},
        )
        return AliasState.from_api(function, answer)

    @staticmethod
    def _call(operation: str, call: Callable[..., Any], **kwargs: Any) -> dict[str, Any]:
        try:
            answer: dict[str, Any] = call(**kwargs)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            target = f"{kwargs.get('FunctionName')}:{kwargs.get('Name') or kwargs.get('Qualifier')}"
            raise CanaryControlError(
                f"{operation} {target} refused: {error.get('Code', 'error')}: {error.get('Message', exc)}"
            ) from exc
        except BotoCoreError as exc:
            raise CanaryControlError(f"{operation}: the call to the Lambda API failed: {exc}") from exc
        return answer

    def _record(self, what: Action, before: AliasState, after: AliasState, detail: str) -> AuditRecord:
        record = AuditRecord(
            who=self._operator or operator_name(),
            what=what,
            when=self._clock(),
            function=before.function,
            alias=before.alias,
            before=before,
            after=after,
            detail=detail,
        )
        audit_log.info(json.dumps(record.model_dump(mode="json"), separators=(",", ":")))
        return record
