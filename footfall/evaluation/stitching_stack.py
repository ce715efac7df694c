"""Stitching evaluated through the real stack (``footfall simulate --evaluate``): publish a
simulation to the broker, ingest it into a scratch database with the real ingest, stitch it
there in each mode with the production database pass, and score the result
(:mod:`~footfall.evaluation.stitching`).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from cloud.analytics.derive import derive_all_dirty
from cloud.db import connect
from cloud.ingest.service import run_ingest
from cloud.migrate import migrate
from cloud.settings import IngestSettings, RetentionSettings
from cloud.stitch.stitcher import MODES, StitchSettings
from cloud.stitch.store import load_decided, load_tracklets, stitch_pass
from cloud.stitch.tracklets import Tracklets
from cloud.transport.kafka import MessagePublisher, ensure_topics
from footfall.contract import Message
from footfall.evaluation.scratch import scratch_database
from footfall.evaluation.stitching import LocalCrossing, LocalVisit, evaluate
from footfall.simulate.truth import Truth
from footfall.site import Site

log = logging.getLogger("footfall.evaluation.stitching")

Progress = Callable[[str], None]
Reporting = Callable[
    [Tracklets, Sequence[str], Sequence[LocalCrossing], Sequence[LocalVisit]], dict[str, Any]
]
"""Scores more figures from the tracklets, the served mode's ids, crossings and visits."""


def publish(
    bootstrap_servers: str, namespace: str, chunks: Sequence[Sequence[Message]]
) -> tuple[int, float]:
    """Publish message chunks as fast as the broker takes them; (messages, seconds)."""
    began = time.perf_counter()
    publisher = MessagePublisher(bootstrap_servers, namespace)
    try:
        for chunk in chunks:
            publisher.send(chunk)
    finally:
        publisher.close()
    return publisher.sent, time.perf_counter() - began


def ingest(database_url: str, bootstrap_servers: str, site: Site, namespace: str) -> float:
    """Run the real ingest until the namespace's topics are drained; seconds taken."""
    began = time.perf_counter()
    run_ingest(
        database_url,
        bootstrap_servers,
        [site],
        IngestSettings(
            group_id=f"ingest-{namespace}", topic_namespace=namespace, analytics_interval_s=30.0
        ),
        # simulated days lie in the past: keep everything
        RetentionSettings(observations_days=1e5, embeddings_hours=1e7, rollups_days=1e5),
        stop=threading.Event(),
        idle_exit_s=5.0,
    )
    with connect(database_url) as conn:
        derive_all_dirty(conn, site)
    return time.perf_counter() - began


def stored_analytics(
    conn: psycopg.Connection[tuple[object, ...]], site_id: str
) -> tuple[list[LocalCrossing], list[LocalVisit]]:
    """Derived crossings and visits per local track, as the analytics stored them."""
    cr: list[Any] = conn.execute(
        "SELECT camera_id, track_id, line_id, at, direction FROM line_crossing WHERE site_id = %s",
        (site_id,),
    ).fetchall()
    vi: list[Any] = conn.execute(
        "SELECT camera_id, track_id, zone_id, enter_at, exit_at FROM zone_visit WHERE site_id = %s",
        (site_id,),
    ).fetchall()
    return [LocalCrossing(*r) for r in cr], [LocalVisit(*r) for r in vi]


def evaluate_through_stack(
    site: Site,
    truth: Truth,
    chunks: Sequence[Sequence[Message]],
    database_url: str,
    bootstrap_servers: str,
    modes: Sequence[str] = MODES,
    base: StitchSettings | None = None,
    progress: Progress | None = None,
    keep_database: bool = False,
    reporting: Reporting | None = None,
) -> dict[str, Any]:
    """Publish → ingest → stitch (each mode, in the database) → metrics; see the module.

    The scratch database (``footfall_sim_…``, on the server of ``database_url``) is dropped
    afterwards unless ``keep_database``. ``reporting``, when given, scores the stored data further
    (the ``combined`` ids); its answer is the result's ``reporting``."""
    say = progress or log.info
    base = base or StitchSettings()
    namespace = f"sim-{secrets.token_hex(4)}"
    ensure_topics(bootstrap_servers, namespace=namespace)
    sent, publish_s = publish(bootstrap_servers, namespace, chunks)
    say(f"published {sent} messages in {publish_s:.1f} s ({sent / max(publish_s, 1e-9):,.0f}/s)")
    out: dict[str, Any] = {"messages": sent, "publish_msgs_per_s": round(sent / publish_s)}
    with scratch_database(database_url, "footfall_sim", keep=keep_database) as url:
        ingest_s = ingest(url, bootstrap_servers, site, namespace)
        say(f"ingested and derived in {ingest_s:.1f} s")
        out["ingest_s"] = round(ingest_s, 1)
        passes: dict[str, float] = {}
        with connect(url) as conn:
            migrate(conn)
            far = datetime(2100, 1, 1, tzinfo=UTC) - timedelta(days=1)
            for mode in modes:
                settings = StitchSettings(**{**base.__dict__, "mode": mode, "threshold": None})
                began = time.perf_counter()
                stitch_pass(conn, site, settings, now=far, since=datetime(2000, 1, 1, tzinfo=UTC))
                conn.commit()
                passes[mode] = time.perf_counter() - began
                say(f"stitched mode={mode} in {passes[mode]:.1f} s (database pass)")
            t = load_tracklets(conn, site, datetime(2000, 1, 1, tzinfo=UTC), far)
            assigned: dict[str, Sequence[str]] = {
                mode: load_decided(conn, site.id, mode, t) for mode in modes
            }
            crossings, visits = stored_analytics(conn, site.id)
    out["tracklets"] = len(t)
    out["modes"] = evaluate(site, truth, t, crossings, visits, modes, base, assigned)
    for mode in modes:
        out["modes"][mode]["stitch_pass_s"] = round(passes[mode], 2)
    if reporting is not None and "combined" in assigned:
        out["reporting"] = reporting(t, assigned["combined"], crossings, visits)
    return out
