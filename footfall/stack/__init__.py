"""The local stack: PostgreSQL 15 with TimescaleDB and the Tansu Kafka-protocol broker on loopback.

Everything a stack owns (data, logs, pid files, sockets) lives under one run directory, one per
profile: ``demo`` keeps broker data on disk (Tansu over a local SeaweedFS S3 store), ``test``
keeps broker data in memory. Ports differ per profile so both can run side by side.
"""

from footfall.stack.profile import StackProfile, profile_for
from footfall.stack.services import (
    StackError,
    stack_down,
    stack_status,
    stack_up,
    start_broker,
    stop_broker,
)

__all__ = [
    "StackError",
    "StackProfile",
    "profile_for",
    "stack_down",
    "stack_status",
    "stack_up",
    "start_broker",
    "stop_broker",
]
