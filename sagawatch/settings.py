"""Settings for every part of sagawatch, read once from the environment.

Names follow ``SAGAWATCH_*``; the few that the wider ecosystem already names
(``DATABASE_URL``, ``AUDIT_DATABASE_URL``, ``OTEL_EXPORTER_OTLP_ENDPOINT``)
are read under those names so that an existing deployment's environment works
unchanged.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from sagawatch.contracts.saga import DEFAULT_STUCK_THRESHOLDS_S
from sagawatch.serving import require_loopback


class Settings(BaseSettings):
    """Everything configurable, with defaults that run the embedded stack on loopback."""

    model_config = SettingsConfigDict(env_prefix="SAGAWATCH_", extra="ignore", populate_by_name=True)

    home: Path = Field(
        default=Path(".sagawatch"),
        description="State directory: embedded PostgreSQL data, stack.json, pid file.",
    )
    host: str = Field(default="127.0.0.1", description="Loopback address every local server binds to.")
    region: str = Field(default="us-east-1", description="AWS region used for every client.")
    moto_port: int = Field(default=0, ge=0, le=65535, description="0 picks a free port.")
    api_port: int = Field(default=0, ge=0, le=65535, description="API front port; 0 picks a free port.")
    otlp_port: int = Field(default=0, ge=0, le=65535, description="OTLP/HTTP receiver port; 0 picks one.")
    dashboard_port: int = Field(default=0, ge=0, le=65535, description="Dashboard port; 0 picks a free one.")
    dashboard: bool = Field(default=True, description="Whether `sagawatch up` serves the dashboard.")

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "SAGAWATCH_DATABASE_URL"),
        description="Aurora (the app's PostgreSQL). Unset: the embedded server's `aurora` database.",
    )
    audit_database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("AUDIT_DATABASE_URL", "SAGAWATCH_AUDIT_DATABASE_URL"),
        description="The audit store. Unset: the embedded server's `audit` database.",
    )
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT", "SAGAWATCH_OTEL_EXPORTER_OTLP_ENDPOINT"),
        description="Where spans go. Unset: the receiver that `sagawatch up` starts.",
    )

    collect_interval_s: float = Field(default=5.0, gt=0, description="Seconds between collector passes.")
    stuck_thresholds_s: dict[str, float] = Field(
        default_factory=lambda: dict(DEFAULT_STUCK_THRESHOLDS_S),
        description="Per saga type: seconds without progress after which a live saga is stuck.",
    )

    @field_validator("host")
    @classmethod
    def _host_is_loopback(cls, value: str) -> str:
        """The embedded stack is local stand-ins for AWS and SaaS: it never serves a network."""
        require_loopback(value)
        return value

    @property
    def stack_file(self) -> Path:
        """Where a running ``sagawatch up`` publishes its endpoints."""
        return self.home / "stack.json"

    def stuck_threshold_s(self, saga_type: str) -> float:
        """The threshold for one saga type, falling back to the ``default`` entry."""
        return self.stuck_thresholds_s.get(saga_type, self.stuck_thresholds_s.get("default", 300.0))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests build ``Settings(...)`` directly instead."""
    return Settings()
