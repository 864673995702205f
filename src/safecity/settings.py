"""Deployment settings (database, data directory, secrets, broker), read from the environment.

Settings are built by the CLI or ``create_app``, never at import time. Outside demo mode a
placeholder secret is refused.
"""

from __future__ import annotations

import ipaddress
from functools import cached_property
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from safecity.errors import ConfigError

__all__ = ["IpNetwork", "PLACEHOLDER_SECRETS", "Settings", "default_home"]

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "demo-secret-not-for-production"})


def default_home() -> Path:
    """Where safecity keeps its SQLite database, media and reports unless SAFECITY_HOME says otherwise."""
    return Path.cwd() / "var"


class Settings(BaseSettings):
    """Environment variables with the ``SAFECITY_`` prefix, e.g. ``SAFECITY_DATABASE_URL``."""

    model_config = SettingsConfigDict(env_prefix="SAFECITY_", extra="ignore")

    home: Path = Field(default_factory=default_home, description="data directory (db, media, reports)")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default sqlite:///<home>/safecity.db"
    )
    secret_key: str = Field(default="", description="session signing key; required outside demo mode")
    demo: bool = Field(default=False, description="demo mode: allows the placeholder secret and demo users")
    mqtt_url: str | None = Field(default=None, description="mqtt://host:port/topic-prefix for alerts")
    webhook_urls: list[str] = Field(default_factory=list, description="URLs that receive alert payloads")
    alert_payload_versions: Annotated[list[Annotated[int, Field(ge=1, le=2)]], NoDecode] = Field(
        default_factory=lambda: [1, 2],
        min_length=1,
        description="alert payload versions sent (comma-separated): 1 per event, 2 per incident",
    )
    session_ttl_s: float = Field(default=8 * 3600, gt=0, description="console session lifetime in seconds")
    media_retention_days: float = Field(default=30, gt=0, description="keep snapshots/clips this many days")
    media_max_bytes: int = Field(default=20 * 1024**3, gt=0, description="cap on snapshots+clips on disk")
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="reverse proxies (IPs or CIDRs, comma-separated) whose X-Forwarded-For is believed; "
        "empty (default): X-Forwarded-For is ignored and the peer address is the client",
    )
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="extra Origins (scheme://host[:port], comma-separated) allowed to open the WebSockets "
        "besides the console's own",
    )
    unauth_audit_interval_s: float = Field(
        default=60.0,
        gt=0,
        le=86400,
        description="anonymous (401) requests are counted and written to the audit log as one summary row "
        "per address per interval",
    )

    @field_validator("trusted_proxies", "allowed_origins", "alert_payload_versions", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [p.strip() for p in value.split(",") if p.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError as exc:
                raise ValueError(
                    f"{item!r} is not an IP address or CIDR network (expected e.g. 127.0.0.1 or 10.0.0.0/24)"
                ) from exc
        return value

    @field_validator("allowed_origins")
    @classmethod
    def _check_origins(cls, value: list[str]) -> list[str]:
        out = []
        for item in value:
            origin = item.rstrip("/").lower()
            if not origin.startswith(("http://", "https://")) or "/" in origin.split("://", 1)[1]:
                raise ValueError(
                    f"{item!r} is not an origin (expected scheme://host[:port], "
                    "e.g. https://console.example.org)"
                )
            out.append(origin)
        return out

    @cached_property
    def trusted_proxy_networks(self) -> tuple[IpNetwork, ...]:
        """:attr:`trusted_proxies` parsed (validated when the settings were built)."""
        return tuple(ipaddress.ip_network(p, strict=False) for p in self.trusted_proxies)

    @property
    def db_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'safecity.db').resolve()}"

    def require_secret(self) -> str:
        """The session secret; refuses a placeholder outside demo mode."""
        if self.secret_key in PLACEHOLDER_SECRETS:
            if self.demo:
                return "demo-secret-not-for-production"
            raise ConfigError(
                "SAFECITY_SECRET_KEY is unset or a placeholder "
                f"({self.secret_key!r}); set it to a long random string, e.g. "
                "`export SAFECITY_SECRET_KEY=$(python3 -c "
                "'import secrets;print(secrets.token_urlsafe(32))')`, "
                "or use `safecity demo` (or SAFECITY_DEMO=1) for a local demonstration"
            )
        return self.secret_key
