"""What a running stack publishes about itself in ``.sagawatch/stack.json``.

Every other command (``status``, ``collect``, ``reconcile``, tests, the
dashboard) finds the stack through this file rather than through ports it
guesses.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from pydantic import BaseModel, Field


class StackInfo(BaseModel):
    pid: int
    started_at: str
    region: str
    aws_endpoint: str = Field(description="moto's server, for every boto3 client")
    api_endpoint: str = Field(description="the API front (API Gateway stand-in)")
    otlp_endpoint: str = Field(description="OTLP/HTTP receiver base URL")
    aurora_url: str
    audit_url: str
    saas: dict[str, str] = Field(default_factory=dict, description="SaaS simulator base URLs by name")
    extra: dict[str, str] = Field(default_factory=dict)

    def write(self, path: Path) -> None:
        """Write atomically so a reader never sees half a file; owner-only, as it holds database URLs."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(self.model_dump_json(indent=2))
        os.replace(tmp, path)

    @classmethod
    def read(cls, path: Path) -> StackInfo | None:
        """The published stack, or None when no file exists or its process has gone."""
        try:
            info = cls.model_validate(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None
        return info if pid_alive(info.pid) else None


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
