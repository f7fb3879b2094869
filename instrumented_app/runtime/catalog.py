"""Functions as the Lambda service knows them, read back from its API (moto's, locally).

Nothing about a function is declared twice: handler, timeout, memory and
environment come from ``get_function_configuration`` for the exact version that
runs, and alias routing from ``get_alias``. moto 5.2.5 keeps a published version's
configuration as it was at publish time (``publish_version`` copies the function,
and ``update_function_configuration`` replaces rather than mutates its
``Environment``), so versions differ as they do on AWS.

Published versions never change, so their answers are cached for good; an
alias and ``$LATEST`` can change at any time (``sagawatch canary rollback``
updates the alias), so their answers live ``mutable_ttl_s`` (1 s by default),
about as long as a change takes to reach every Lambda front end on AWS.
``invalidate`` forgets everything at once.
"""

from __future__ import annotations

import random
import re
import threading
import time
from dataclasses import dataclass
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from instrumented_app.runtime.types import FunctionSpec

LATEST = "$LATEST"
_ARN = re.compile(r"^arn:[^:]+:lambda:[^:]+:\d{12}:function:(?P<name>[^:]+)(?::(?P<qualifier>[^:]+))?$")
_PARTIAL_ARN = re.compile(r"^\d{12}:function:(?P<name>[^:]+)(?::(?P<qualifier>[^:]+))?$")
_VERSION = re.compile(r"^(\$LATEST|\d+)$")


def split_function_name(function_name: str, qualifier: str | None = None) -> tuple[str, str | None]:
    """``name``, ``name:qualifier``, a partial or a full ARN -> (name, qualifier).

    A qualifier given both ways must agree, as the Lambda API requires.
    """
    match = _ARN.match(function_name) or _PARTIAL_ARN.match(function_name)
    if match:
        name, embedded = match.group("name"), match.group("qualifier")
    elif function_name.count(":") == 1:
        name, embedded = function_name.split(":")
    elif ":" in function_name or not function_name:
        raise ValueError(f"function_name: {function_name!r} is not a function name or ARN")
    else:
        name, embedded = function_name, None
    if embedded and qualifier and embedded != qualifier:
        raise ValueError(f"qualifier: {qualifier!r} conflicts with {embedded!r} in function_name")
    return name, embedded or qualifier


@dataclass(frozen=True)
class AliasRouting:
    """An alias: its main version, plus versions that take a share of invocations."""

    name: str
    function_version: str
    additional_weights: dict[str, float]

    def pick(self, rng: random.Random) -> str:
        """A version by weight: each extra version with its probability, else the main one."""
        draw = rng.random()
        for version, weight in self.additional_weights.items():
            if draw < weight:
                return version
            draw -= weight
        return self.function_version


@dataclass(frozen=True)
class Target:
    """What one invocation runs: the spec of the chosen version and the ARN it was invoked by."""

    spec: FunctionSpec
    version: str
    invoked_arn: str


class FunctionCatalog:
    def __init__(self, lambda_client: Any, *, mutable_ttl_s: float = 1.0) -> None:
        self._client = lambda_client
        self._ttl_s = mutable_ttl_s
        #: key -> (answer, monotonic expiry or None for never)
        self._specs: dict[tuple[str, str], tuple[tuple[FunctionSpec, str], float | None]] = {}
        self._aliases: dict[tuple[str, str], tuple[AliasRouting, float | None]] = {}
        self._lock = threading.Lock()

    def function(self, name: str, version: str = LATEST) -> tuple[FunctionSpec, str]:
        """(spec, the version's number as Lambda reports it). ``LookupError`` if unknown."""
        key = (name, version)
        with self._lock:
            cached = _fresh(self._specs.get(key))
        if cached is not None:
            return cached
        config = self._lookup(self._client.get_function_configuration, FunctionName=name, Qualifier=version)
        found = (_spec(config), str(config.get("Version", version)))
        expiry = time.monotonic() + self._ttl_s if version == LATEST else None
        with self._lock:
            self._specs[key] = (found, expiry)
        return found

    def alias(self, name: str, alias: str) -> AliasRouting:
        key = (name, alias)
        with self._lock:
            cached = _fresh(self._aliases.get(key))
        if cached is not None:
            return cached
        answer = self._lookup(self._client.get_alias, FunctionName=name, Name=alias)
        weights = (answer.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        routing = AliasRouting(
            alias, str(answer["FunctionVersion"]), {str(k): float(v) for k, v in weights.items()}
        )
        with self._lock:
            self._aliases[key] = (routing, time.monotonic() + self._ttl_s)
        return routing

    def resolve(self, function_name: str, qualifier: str | None, rng: random.Random) -> Target:
        """The version one invocation runs, picking by alias weights when the qualifier is an alias."""
        name, qualifier = split_function_name(function_name, qualifier)
        if qualifier is None or _VERSION.match(qualifier):
            spec, version = self.function(name, qualifier or LATEST)
            arn = spec.arn if qualifier is None else f"{_unqualified(spec.arn)}:{qualifier}"
            return Target(spec, version, arn)
        routing = self.alias(name, qualifier)
        spec, version = self.function(name, routing.pick(rng))
        return Target(spec, version, f"{_unqualified(spec.arn)}:{qualifier}")

    def invalidate(self, name: str | None = None) -> None:
        """Forget cached answers (for one function, or all) so the next call reads the API again."""
        with self._lock:
            for cache in (self._specs, self._aliases):
                for key in [k for k in cache if name is None or k[0] == name]:
                    del cache[key]

    @staticmethod
    def _lookup(call: Any, **kwargs: str) -> dict[str, Any]:
        try:
            answer: dict[str, Any] = call(**kwargs)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                raise LookupError(f"no such function or qualifier: {kwargs}") from exc
            raise
        return answer


def _unqualified(arn: str) -> str:
    match = _ARN.match(arn)
    if match and match.group("qualifier"):
        return arn.rsplit(":", 1)[0]
    return arn


def _spec(config: dict[str, Any]) -> FunctionSpec:
    return FunctionSpec(
        name=config["FunctionName"],
        handler=config["Handler"],
        timeout_s=float(config.get("Timeout", 3)),
        memory_mb=int(config.get("MemorySize", 128)),
        environment=dict((config.get("Environment") or {}).get("Variables") or {}),
        arn=_unqualified(config["FunctionArn"]),
    )


_T = TypeVar("_T")


def _fresh(entry: tuple[_T, float | None] | None) -> _T | None:
    """The cached answer unless it has expired."""
    if entry is None:
        return None
    answer, expiry = entry
    return answer if expiry is None or time.monotonic() < expiry else None
