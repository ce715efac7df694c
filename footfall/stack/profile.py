"""Where a local stack lives and which loopback ports it uses."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from footfall import addresses
from footfall.addresses import DATABASE, DEMO_BROKER_PORT, DEMO_PG_PORT
from footfall.errors import UserError

HOST = addresses.HOST


@dataclass(frozen=True)
class StackProfile:
    """One local stack: its run directory, its ports and how the broker stores data.

    ``persistent_broker`` selects Tansu's S3 storage on a local SeaweedFS (data survives restarts)
    instead of Tansu's memory storage (lost on restart; fast, for tests).
    """

    name: str
    run_dir: Path
    pg_port: int
    broker_port: int
    s3_port: int
    persistent_broker: bool
    database: str = DATABASE

    @property
    def pg_dir(self) -> Path:
        return self.run_dir / "postgres"

    @property
    def log_dir(self) -> Path:
        return self.run_dir / "logs"

    @property
    def pid_dir(self) -> Path:
        return self.run_dir / "pids"

    @property
    def database_url(self) -> str:
        return f"postgresql://postgres@{HOST}:{self.pg_port}/{self.database}"

    @property
    def bootstrap_servers(self) -> str:
        return f"{HOST}:{self.broker_port}"

    @property
    def env_file(self) -> Path:
        return self.run_dir / "stack.env"

    @property
    def ports_file(self) -> Path:
        """The ports ``stack up`` started this stack with (read by ``status``, ``down``, and a
        later ``up`` without port options)."""
        return self.run_dir / "ports.json"

    def record_ports(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.ports_file.write_text(
            json.dumps(
                {"pg_port": self.pg_port, "broker_port": self.broker_port, "s3_port": self.s3_port}
            )
            + "\n"
        )


# Default ports sit away from the usual ones (5432, 9092, 8333) so a stack can run beside a
# system PostgreSQL or Kafka.
_DEFAULTS = {
    "demo": {
        "pg_port": DEMO_PG_PORT,  # the default address of every process (footfall.addresses)
        "broker_port": DEMO_BROKER_PORT,
        "s3_port": 18333,
        "persistent_broker": True,
    },
    "test": {"pg_port": 55442, "broker_port": 19192, "s3_port": 18433, "persistent_broker": False},
}

PROFILES = tuple(_DEFAULTS)


CHECKOUT_RUN_DIR = Path(__file__).resolve().parents[2] / ".run"
"""The default root: this checkout's ``.run``, wherever a command runs from."""


def default_root() -> Path:
    """The folder that holds every profile's run directory: ``FOOTFALL_RUN_DIR``, else this
    checkout's ``.run`` (never one under the current directory)."""
    env = os.environ.get("FOOTFALL_RUN_DIR")
    return Path(env).expanduser().resolve() if env else CHECKOUT_RUN_DIR


def _recorded_ports(run_dir: Path) -> dict[str, int]:
    try:
        data = json.loads((run_dir / "ports.json").read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(v, int)}


# SeaweedFS takes the S3 port, the next 13 and the one 10004 above it.
_HIGHEST = {"pg_port": 65535, "broker_port": 65535, "s3_port": 65535 - 10004}


class PortSettingError(UserError, ValueError):
    """A port in the environment is not a usable port number."""


def _env_port(variable: str, value: str, key: str) -> int:
    try:
        port = int(value)
    except ValueError:
        port = -1
    if not 1 <= port <= _HIGHEST[key]:
        raise PortSettingError(
            f"{variable}={value!r} is not a port this stack can use; set it to a number from 1 "
            f"to {_HIGHEST[key]}, or unset it for the default."
        )
    return port


def profile_for(
    name: str,
    root: Path | None = None,
    *,
    pg_port: int | None = None,
    broker_port: int | None = None,
    s3_port: int | None = None,
    recorded: bool = False,
) -> StackProfile:
    """The stack profile called ``name``; ports may be overridden (``None`` keeps the default).

    Environment variables ``FOOTFALL_<PROFILE>_PG_PORT`` / ``_BROKER_PORT`` / ``_S3_PORT``
    override the defaults too, so CI can move a stack without editing files. With
    ``recorded``, a port neither given nor in the environment is the one the stack was last
    started with (its run directory's ``ports.json``), before the default.
    """
    if name not in _DEFAULTS:
        raise ValueError(f"unknown stack profile {name!r}; choose one of {', '.join(PROFILES)}")
    run_dir = (root or default_root()) / name
    settings: dict[str, int | bool] = dict(_DEFAULTS[name])
    if recorded:
        settings.update(_recorded_ports(run_dir))
    overrides = {"pg_port": pg_port, "broker_port": broker_port, "s3_port": s3_port}
    for key, explicit in overrides.items():
        env = os.environ.get(f"FOOTFALL_{name.upper()}_{key.upper()}")
        if explicit is not None:
            settings[key] = explicit
        elif env:
            settings[key] = _env_port(f"FOOTFALL_{name.upper()}_{key.upper()}", env, key)
    return StackProfile(
        name=name,
        run_dir=run_dir,
        pg_port=int(settings["pg_port"]),
        broker_port=int(settings["broker_port"]),
        s3_port=int(settings["s3_port"]),
        persistent_broker=bool(settings["persistent_broker"]),
    )
