"""Where the cloud finds its database and broker: options, then environment, then the demo stack."""

from __future__ import annotations

import os

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:55432/footfall"
DEFAULT_BOOTSTRAP_SERVERS = "127.0.0.1:19092"


def database_url(explicit: str | None = None) -> str:
    return explicit or os.environ.get("FOOTFALL_DATABASE_URL") or DEFAULT_DATABASE_URL


def bootstrap_servers(explicit: str | None = None) -> str:
    return explicit or os.environ.get("FOOTFALL_BOOTSTRAP_SERVERS") or DEFAULT_BOOTSTRAP_SERVERS
