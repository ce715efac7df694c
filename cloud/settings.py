"""Where the cloud finds its database and broker, and how it behaves.

Addresses come from options, then the environment, then the demo stack. Everything else has a
default in :class:`CloudSettings` that a command-line option can override.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:55432/footfall"
DEFAULT_BOOTSTRAP_SERVERS = "127.0.0.1:19092"


def database_url(explicit: str | None = None) -> str:
    return explicit or os.environ.get("FOOTFALL_DATABASE_URL") or DEFAULT_DATABASE_URL


def bootstrap_servers(explicit: str | None = None) -> str:
    return explicit or os.environ.get("FOOTFALL_BOOTSTRAP_SERVERS") or DEFAULT_BOOTSTRAP_SERVERS


@dataclass(frozen=True)
class AnalyticsSettings:
    """How trajectories become counts (all lengths in metres, times in seconds)."""

    line_hysteresis_m: float = 0.3
    """A person must be this far from a counting line on the new side before a crossing counts."""
    min_visit_s: float = 5.0
    """Zone visits shorter than this are not visits (people walking past a corner)."""
    visit_gap_s: float = 2.0
    """A track outside a zone for up to this long is still in its visit (jitter at the edge)."""
    heatmap_cell_m: float = 0.5
    """Base heatmap cell; the API serves multiples of it."""
    occupancy_stale_s: float = 5.0
    """A person not seen for this long no longer counts towards current occupancy."""


@dataclass(frozen=True)
class RetentionSettings:
    """How long each kind of data is kept; enforced by the service with drop_chunks."""

    observations_days: float = 30.0
    embeddings_hours: float = 24.0
    rollups_days: float = 3650.0
    interval_s: float = 3600.0


@dataclass(frozen=True)
class IngestSettings:
    """Batching and consumer-group behaviour of ``footfall cloud ingest``."""

    group_id: str = "footfall-ingest"
    batch_messages: int = 2000
    batch_seconds: float = 1.0
    poll_max_records: int = 2000
    session_timeout_ms: int = 6000
    analytics_interval_s: float = 5.0
    """How often dirty tracks are re-derived. Each pass re-reads whole tracks, so a shorter
    interval re-reads the same observations more often: at 2 s the derivation took more than
    half of a busy ingest process's time (bench/cloud/bench_cloud.py)."""
    auto_offset_reset: str = "earliest"
    topic_namespace: str = ""
    """Prefix of the topic names (``"<ns>.footfall.observations.v1"``); empty for none."""
