"""Deployment settings (database, data directory, secrets, broker), read from the environment.

Settings are built by the CLI or ``create_app``, never at import time. Outside demo mode a
placeholder secret is refused.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from safecity.errors import ConfigError

__all__ = ["PLACEHOLDER_SECRETS", "Settings", "default_home"]

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
    session_ttl_s: float = Field(default=8 * 3600, gt=0, description="console session lifetime in seconds")
    media_retention_days: float = Field(default=30, gt=0, description="keep snapshots/clips this many days")
    media_max_bytes: int = Field(default=20 * 1024**3, gt=0, description="cap on snapshots+clips on disk")

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
