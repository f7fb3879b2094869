"""System name -> its backend module: ``reconciler.sources.<system>`` with ``source()`` and ``writer()``.

So adding a SaaS is one file here (``sources/<name>.py`` exposing those two
factories over an ``httpx.Client``) and one ``SystemMapping`` in
``reconciler.mapping.MAPPINGS``; nothing else names systems.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any, cast

import httpx

from reconciler.mapping import mapping_for
from reconciler.sources.saas import SaasSource
from reconciler.sources.writer import SaasWriter


def _module(system: str) -> ModuleType:
    mapping_for(system)  # unknown names fail here, listing the known ones
    module = importlib.import_module(f"reconciler.sources.{system}")
    for factory in ("source", "writer"):
        if not callable(getattr(module, factory, None)):
            raise TypeError(f"reconciler.sources.{system} must define {factory}(client, **options)")
    return module


def saas_source(system: str, client: httpx.Client, **options: Any) -> SaasSource:
    """The reading backend of ``system`` over ``client`` (whose base URL is the system's)."""
    return cast(SaasSource, _module(system).source(client, **options))


def saas_writer(system: str, client: httpx.Client, **options: Any) -> SaasWriter:
    """The writing backend of ``system`` over ``client``, for repairs."""
    return cast(SaasWriter, _module(system).writer(client, **options))
