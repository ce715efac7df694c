"""How the cloud's processes behave, and where they find the database and the broker.

One pydantic-settings model per concern of a process: each field has its default here, can be
set in the environment (``FOOTFALL_INGEST_BATCH_MESSAGES=5000``, ``FOOTFALL_RETENTION_…``,
``FOOTFALL_API_…``, ``FOOTFALL_STITCH_…``), and a command-line option only overrides it.
Addresses (``FOOTFALL_DATABASE_URL``, ``FOOTFALL_BOOTSTRAP_SERVERS``) have their one default
in :mod:`footfall.addresses`. How trajectories become counts is not here: it describes the
stored data, so it is the site config's ``counting:`` section
(:class:`footfall.site.CountingRules`), recorded with the data (:mod:`cloud.analytics.rules`).
"""

from __future__ import annotations

from typing import Any, Final, Self

from pydantic import ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from footfall.addresses import Addresses
from footfall.errors import UserError


class SettingsError(UserError):
    """A setting from the environment (or an option) that its model rejects."""


def database_url(explicit: str | None = None) -> str:
    """The option if given, else ``FOOTFALL_DATABASE_URL``, else the demo stack's."""
    return Addresses.resolve(database_url=explicit).database_url


def bootstrap_servers(explicit: str | None = None) -> str:
    """The option if given, else ``FOOTFALL_BOOTSTRAP_SERVERS``, else the demo stack's."""
    return Addresses.resolve(bootstrap_servers=explicit).bootstrap_servers


def _config(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=prefix, frozen=True, extra="forbid")


def overriding(model: type[BaseSettings], **options: Any) -> Any:
    """``model`` from the environment, with the options that were given (not None) over it;
    a value it rejects is a :class:`SettingsError` naming the variable."""
    try:
        return model(**{k: v for k, v in options.items() if v is not None})
    except ValidationError as exc:
        prefix = model.model_config.get("env_prefix", "")
        problems = "; ".join(
            f"{prefix}{'_'.join(str(p) for p in e['loc']).upper()}={e['input']!r}: {e['msg']}"
            if e["loc"]
            else e["msg"]
            for e in exc.errors()
        )
        raise SettingsError(
            f"{problems} (fix the environment variable, or give the option)"
        ) from None


def default(model: type[BaseSettings], name: str) -> Any:
    """The default of field ``name`` of ``model`` (for help texts)."""
    return model.model_fields[name].default


class AnalyticsSettings(BaseSettings):
    """How the API reads live data (env ``FOOTFALL_API_*``)."""

    model_config = _config("FOOTFALL_API_")

    occupancy_stale_s: float = 10.0
    """A person not seen for this long no longer counts towards current occupancy. Zone visits
    are derived by ingest every ``analytics_interval_s`` after a batch of up to
    ``batch_seconds``, so this must exceed both together (5 + 1 s by default), or the live
    figure drops to zero between derivations."""
    sites_rescan_s: float = 10.0
    """How often the API reads the sites folder again: a site file added (or changed) later is
    served within this time."""


class RetentionSettings(BaseSettings):
    """How long each kind of data is kept; enforced by the service with drop_chunks (env
    ``FOOTFALL_RETENTION_*``).

    Every table with per-person rows is under one of these windows (the plan, and the tables
    that hold no per-person data, are in :mod:`cloud.analytics.retention`).
    """

    model_config = _config("FOOTFALL_RETENTION_")

    observations_days: float = 30.0
    """Per-person rows: observations, frames, heartbeats, tracklet starts and ends, the line
    crossings and zone visits derived from them, stitched visitor ids (``tracklet_visitor``),
    local tracks (``track``) and their derivation state (``track_state``)."""
    embeddings_hours: float = 24.0
    """Re-ID embeddings (``embedding``): kept for hours, not days."""
    rollups_days: float = 3650.0
    """Per-minute counts without per-person rows: ``footfall_minute``, ``occupancy_minute``,
    ``heatmap_minute``."""
    future_tolerance_s: float = 600.0
    """Rows dated more than this after the service's clock cannot be real (a wrong edge clock,
    hostile input): every pass deletes them, so no row outlives its window by more than this."""
    interval_s: float = 3600.0
    """How often the ingest service enforces retention."""


class IngestSettings(BaseSettings):
    """Batching and consumer-group behaviour of ``footfall cloud ingest`` (env
    ``FOOTFALL_INGEST_*``)."""

    model_config = _config("FOOTFALL_INGEST_")

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
    max_future_skew_s: float = 300.0
    """A message stamped further than this ahead of ingest's clock is a dead letter (a node
    whose clock runs ahead; stored, it would outlive retention and hold up stitching)."""
    sites_rescan_s: float = 10.0
    """How often the site configs are read again: a site file added to the sites folder (or a
    camera added to a site file) is taken up, and the records held for it ingested, within
    this time."""


MODES: Final = ("appearance", "spacetime", "combined")
"""Stitching modes: Re-ID similarity only, space-time constraints only, both."""
DEFAULT_THRESHOLD: Final = {"appearance": 0.5, "spacetime": 0.9, "combined": 0.5}


class StitchSettings(BaseSettings):
    """How the stitcher decides (times in seconds, lengths in metres; env
    ``FOOTFALL_STITCH_*``)."""

    model_config = _config("FOOTFALL_STITCH_")

    mode: str = "combined"
    delay_s: float = 10.0
    """Decision delay: a tracklet is decided this long after it ended, with the others that
    ended meanwhile."""
    ttl_s: float = 3 * 3600.0
    """Gallery time-to-live: a visitor not seen for this long is forgotten."""
    weak_ttl_s: float = 600.0
    """…and a visitor seen only in weak tracklets (see ``weak_quality``) after this long."""
    threshold: float | None = None
    """Lowest score that joins a visitor; None: the mode's default."""
    spacetime_weight: float = 0.2
    skew_tolerance_s: float = 2.0
    """Camera clocks may disagree by this much."""
    future_tolerance_s: float = 60.0
    """A pass takes the newest stored tracklet end as "now", but never one more than this
    after the service's clock: a tracklet dated later cannot be real, is not decided (retention
    deletes it) and holds no other tracklet of its site back."""
    max_speed_mps: float = 2.5
    position_slack_m: float = 3.0
    overlap_agree_m: float = 2.5
    """Mean distance of two concurrent tracks on overlapping cameras below which they are one
    person."""
    weak_quality: float = 0.35
    """Tracklets of lower quality (0..1, from the edge; a few frames) are weak: their noisy
    embeddings get ``weak_leniency`` added to their appearance scores, and joining a visitor
    they only take its id, without changing what the gallery knows about the visitor."""
    weak_leniency: float = 0.3
    neutral_plausibility: float = 0.5
    """Plausibility that neither helps nor hurts in ``combined``: the score is appearance +
    ``spacetime_weight`` × (plausibility − this)."""
    sure_plausibility: float = 2.0
    """Plausibility of what is almost certainly one person (a track broken for a moment, the
    same position in two overlapping views at once); a hand-over is 1."""
    switch_radius_m: float = 2.0
    """Two tracks of one camera at the same time may hold one person if they came this close
    (an identity switch of the edge tracker hands people over between tracks)."""
    long_gap_tau_s: float = 900.0
    """Plausibility of a reappearance after a long unseen gap decays with this time constant."""
    plain_radius_m: float = 1.5
    """Without appearance: a tracklet may continue a visitor seen this far away a moment ago…"""
    plain_spread_mps: float = 0.2
    """…plus this much per second of the gap…"""
    plain_max_gap_s: float = 6.0
    """…after a gap of at most this long…"""
    plain_coast_s: float = 2.0
    """…from where the visitor's last velocity carried it for at most this long."""
    appearance_baselines: dict[str, float] = {
        "mobilenetv2_parts+hsv3c": 0.567,
        "mobilenetv2_imagenet+hsv3": 0.775,
        "osnet_x0_25": 0.559,
    }
    """Per embedder (``embedding_model``, by name prefix): the mean cosine similarity of two
    different people's tracklets, measured on PETS09-S2L1 (``bench/reid/
    bench_reid_separation.py``, 10-crop tracklets). Appearance scores are put on one scale,
    (cos − mean) / (1 − mean), so ``threshold`` means the same for every embedder (the
    simulator's embeddings have mean 0); an embedder not listed is taken as it is."""
    merge_fit: float | None = 0.2
    """Two visitors, one of them without appearance, become one when a tracklet that joined one
    fits the other on the floor better than this (a track broken a moment ago, an overlapping
    view at the same time: the floor fit of the stitcher's module docstring, ≤ 1) and the two
    were never in two places at once (``combined`` mode only); None: visitors are never
    merged."""
    min_plain_frames: int = 10
    """A tracklet without appearance (no embedding) lasting this many frames keeps its visitor
    for ``ttl_s``; shorter ones are weak (``weak_ttl_s``): joining a visitor, such a fragment
    takes its id without moving where and when the visitor was last seen."""
    reentry_window_s: float | None = 30.0
    """Re-entry (``combined`` mode): a new visitor first seen this long at most after a visitor
    left every view (longer than the clock-skew tolerance) may be that visitor come back:
    visitors born in a decision batch and the visitors who left before them are paired by one
    global assignment (Hungarian) on distance, gap and appearance where both have it; None: a
    returning person is always someone new."""
    reentry_radius_m: float = 10.0
    """…from within this distance (m) of where that visitor was last seen, where both the
    leaving and the coming back happen at the edge of the covered floor: not in plain view of
    any camera, ``reentry_edge`` × the frame's size inside its frame (someone lost in the
    middle of a view was missed, not gone)."""
    reentry_edge: float = 0.1
    reentry_margin: float = 0.25
    """A re-entry is taken only when no other pairing fits within this margin of its cost
    (distance / ``reentry_radius_m`` + gap / ``reentry_window_s`` − appearance): when several
    people left where a new visitor appears, it stays someone new. 0.25 is 2.5 m (or 7.5 s):
    about 2 s of walking (1.25 m/s), as late as a person at the edge of a view is first seen or
    as early as they are lost (partly out of the frame, detections missed); nearer rivals than
    that cannot be told apart by where and when. (0.1 before: PETS09-S2L1 with View_001's video
    0.785 → 0.865 MTMC IDF1, from the detection files 0.620 → 0.611; the simulator unchanged:
    README, "Stitching" → "Figures".)"""
    sites_rescan_s: float = 10.0
    """How often the stitcher reads the sites folder again: a site file added (or changed)
    later is stitched from the next pass after this time."""

    @model_validator(mode="after")
    def _known_mode(self) -> Self:
        if self.mode not in MODES:
            raise ValueError(f"unknown stitching mode {self.mode!r}; choose one of {MODES}")
        return self

    @property
    def join_threshold(self) -> float:
        return DEFAULT_THRESHOLD[self.mode] if self.threshold is None else self.threshold
