"""``footfall cloud ingest`` as a process: wiring, periodic analytics and retention, signals.

Site configs come from a :class:`~footfall.site.folder.SitesWatch` (the sites folder, or the
files given): re-read every ``sites_rescan_s``, so a site file added (or a camera added to one)
while ingest runs is taken up, and the records held for it are ingested then.
"""

from __future__ import annotations

import gc
import logging
import signal
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import FrameType

from cloud.analytics.derive import derive_dirty
from cloud.analytics.retention import enforce_retention
from cloud.analytics.rules import agree_rules
from cloud.db import connect
from cloud.ingest.pipeline import IngestPipeline, IngestStats
from cloud.ingest.writer import BatchWriter
from cloud.migrate import migrate
from cloud.settings import IngestSettings, RetentionSettings
from cloud.site_configs import LiveSites
from cloud.transport.kafka import (
    INGEST_TOPICS,
    KafkaDeadLetters,
    KafkaSource,
    ensure_topics,
    topic_name,
)
from footfall.site import Site
from footfall.site.folder import SitesWatch

log = logging.getLogger("footfall.cloud.ingest")


@dataclass
class Periodic:
    """Runs ``action`` at most every ``interval_s`` seconds when poked."""

    interval_s: float
    last: float = float("-inf")

    def due(self) -> bool:
        now = time.monotonic()
        if now - self.last < self.interval_s:
            return False
        self.last = now
        return True


def tune_gc() -> None:
    """Collect cyclic garbage far less often: ingest allocates millions of short-lived objects.

    A batch (2,000 frames of 20 people: 40,000 decoded tracks) stays alive until it is written,
    so CPython's default thresholds (a collection every 700 net allocations) ran collections
    over it again and again: with them, decoding the contract spent about 70 % of its time in
    the cycle collector (bench/cloud/bench_cloud.py, "contract decode alone"). Decoded messages
    hold no reference cycles and are freed by reference counting; objects alive at start-up
    (modules, site models) are frozen out of collections altogether.
    """
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def run_ingest(
    database_url: str,
    bootstrap_servers: str,
    sites: Sequence[Site],
    ingest: IngestSettings,
    retention: RetentionSettings,
    stop: threading.Event | None = None,
    idle_exit_s: float | None = None,
    watch: SitesWatch | None = None,
) -> IngestStats:
    """Consume until SIGTERM/SIGINT (or ``stop``), then drain, commit and close.

    ``sites`` are the configs at start; with ``watch``, files added or changed later are taken
    up (a site file that does not load, or whose counting rules disagree with the stored
    data's, is reported and left out, and ingest goes on); read ``watch`` once before loading
    ``sites`` (:func:`cloud.cli.sites_watch`), or the files read at start are read again at the
    first rescan (and found unchanged)."""
    stop = stop or threading.Event()
    _stop_on_signals(stop)
    tune_gc()
    write_conn = connect(database_url)
    analytics_conn = connect(database_url)
    migrate(write_conn)
    for site in sites:  # derived rows follow the site's counting rules, recorded with them
        agree_rules(write_conn, site)
    ns = ingest.topic_namespace
    ensure_topics(bootstrap_servers, namespace=ns)
    analytics_timer = Periodic(ingest.analytics_interval_s)
    retention_timer = Periodic(retention.interval_s)
    rescan_timer = Periodic(ingest.sites_rescan_s)
    live = LiveSites(sites, watch, database_url, "ingest")
    current: list[Site] = list(sites)  # replaced, never changed: the analytics thread reads it

    def after_flush() -> None:
        if analytics_timer.due():
            for site in current:
                result = derive_dirty(analytics_conn, site)
                if result.tracks:
                    log.info(
                        "derived site=%s tracks=%d crossings=%d visits=%d",
                        site.id,
                        result.tracks,
                        result.crossings,
                        result.visits,
                    )
        if retention_timer.due():
            dropped = enforce_retention(analytics_conn, retention, datetime.now(UTC), current)
            log.info("retention dropped_chunks=%d", dropped)

    source = KafkaSource(
        bootstrap_servers,
        group_id=ingest.group_id,
        topic_names=[topic_name(t, ns) for t in INGEST_TOPICS],
        max_poll_records=ingest.poll_max_records,
        session_timeout_ms=ingest.session_timeout_ms,
        auto_offset_reset=ingest.auto_offset_reset,
    )
    writer = BatchWriter(write_conn, {s.id: s.counting.heatmap_cell_m for s in sites})
    if watch is None:
        fix = (
            "add the site's config (or the camera to it) and restart ingest with it; they are "
            "ingested then"
        )
    elif watch.folder is not None:
        fix = (
            f"add the site's file to the sites folder {watch.folder} (or the camera to its "
            f"file): ingest reads it within {ingest.sites_rescan_s:g} s and takes them in"
        )
    else:
        fix = (
            "add the camera to its site file (read again within "
            f"{ingest.sites_rescan_s:g} s), or restart ingest with the site's file (--site) or "
            "with a sites folder that has it (--sites-dir); they are ingested then"
        )

    def take_up_sites() -> None:
        """Re-read the site configs when due; take up new ones and release their records."""
        nonlocal current
        if watch is None or not rescan_timer.due():
            return
        if not live.rescan():
            return
        current = live.sites
        pipeline.flush()  # what was decoded with the old configs is written first
        writer.cell_m = {s.id: s.counting.heatmap_cell_m for s in current}
        pipeline.cameras = {s.id: frozenset(c.id for c in s.cameras) for s in current}
        pipeline.release()

    pipeline = IngestPipeline(
        source,
        writer,
        KafkaDeadLetters(bootstrap_servers, ns, lookback=max(10_000, 2 * ingest.batch_messages)),
        {site.id: frozenset(c.id for c in site.cameras) for site in sites},
        ingest.batch_messages,
        ingest.batch_seconds,
        after_flush=after_flush,
        namespace=ns,
        max_future_skew_s=ingest.max_future_skew_s,
        tick=take_up_sites,
        hold_fix=fix,
    )
    log.info("ingest started group=%s sites=%s", ingest.group_id, ",".join(s.id for s in sites))
    try:
        pipeline.release()  # records held by an earlier run whose config is here now
        waiting = writer.held_counts()
        if waiting:
            log.warning(
                "holding %d records from earlier runs (none lost, none ingested yet) of %s: %s",
                sum(waiting.values()),
                pipeline.describe_held(waiting),
                fix,
            )
        stats = pipeline.run(stop, idle_exit_s=idle_exit_s)
        analytics_timer.last = float("-inf")
        after_flush()
        waiting = writer.held_counts()
        if waiting:  # the last word: what still waits for a config, and how to end it
            log.warning(
                "stopping with %d records held (none lost, none ingested yet) of %s: %s",
                sum(waiting.values()),
                pipeline.describe_held(waiting),
                fix,
            )
    finally:
        write_conn.close()
        analytics_conn.close()
    log.info("ingest stopped %s", stats.summary())
    return stats


def _stop_on_signals(stop: threading.Event) -> None:
    if threading.current_thread() is not threading.main_thread():
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        log.info("signal %s: draining, committing and stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
