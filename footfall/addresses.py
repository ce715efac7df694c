"""Where the database and the broker are: the one default, for every process.

A base-layer module (pydantic-settings and the standard library only), so that the cloud, the
edge and the local stack all take the same default: the demo stack's loopback ports. Each process
reads ``FOOTFALL_DATABASE_URL`` / ``FOOTFALL_BOOTSTRAP_SERVERS`` through :class:`Addresses`, and a
command-line option only overrides them.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

HOST = "127.0.0.1"
"""The local stack listens on loopback only."""
DEMO_PG_PORT = 55432
"""PostgreSQL of the demo stack (away from the usual 5432, so a system one can run beside)."""
DEMO_BROKER_PORT = 19092
"""The Kafka-protocol broker of the demo stack (away from the usual 9092)."""
DATABASE = "footfall"

DEFAULT_DATABASE_URL = f"postgresql://postgres@{HOST}:{DEMO_PG_PORT}/{DATABASE}"
DEFAULT_BOOTSTRAP_SERVERS = f"{HOST}:{DEMO_BROKER_PORT}"


class Addresses(BaseSettings):
    """The database and broker a process uses: options, else ``FOOTFALL_*``, else the demo
    stack."""

    model_config = SettingsConfigDict(env_prefix="FOOTFALL_", frozen=True, extra="ignore")

    database_url: str = Field(default=DEFAULT_DATABASE_URL, description="PostgreSQL URL.")
    bootstrap_servers: str = Field(
        default=DEFAULT_BOOTSTRAP_SERVERS, description="Broker host:port (comma-separated)."
    )

    @classmethod
    def resolve(
        cls, database_url: str | None = None, bootstrap_servers: str | None = None
    ) -> Addresses:
        """The addresses with the options given (not None) over the environment."""
        given: dict[str, Any] = {
            "database_url": database_url,
            "bootstrap_servers": bootstrap_servers,
        }
        return cls(**{k: v for k, v in given.items() if v})
