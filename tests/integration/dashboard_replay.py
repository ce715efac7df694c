"""A replay that fills a database the way a running site does, for the dashboard tests.

Synthetic walkers (tests/support/synthetic.py) of every camera of a site, plus camera heartbeats,
go through the real ingest writer and analytics (``BatchWriter`` then ``derive_all_dirty``, as
``footfall cloud ingest`` does per batch): the span up to "now" and the same span a week
earlier at once, then, from a background thread, each second's frames as their time comes (a
live replay), so that occupancy "now" and the live stream move like a real site's.
"""

from __future__ import annotations

import math
import random
import socket
import threading
from datetime import datetime, timedelta

import psycopg
from synthetic import site_messages

from cloud.analytics.derive import derive_all_dirty
from cloud.ingest.writer import BatchWriter
from cloud.migrate import migrate
from footfall.contract import CameraHeartbeat, FrameObservations, Message, TrackObservation
from footfall.site import Site

HEARTBEAT_S = 30.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def heartbeats(site: Site, start: datetime, end: datetime, now: datetime) -> list[CameraHeartbeat]:
    """Every camera's heartbeat each 30 s; the last camera struggles 40 to 20 minutes before now."""
    rng = random.Random(11)
    out: list[CameraHeartbeat] = []
    for i, cam in enumerate(site.cameras):
        at = start + timedelta(seconds=HEARTBEAT_S)
        while at <= end:
            bad = i == len(site.cameras) - 1 and timedelta(minutes=20) <= now - at <= timedelta(
                minutes=40
            )
            fps = cam.fps * (rng.uniform(0.45, 0.6) if bad else rng.uniform(0.96, 1.0))
            frames = int(fps * HEARTBEAT_S)
            out.append(
                CameraHeartbeat(
                    site_id=site.id,
                    camera_id=cam.id,
                    node_id="replay",
                    run_id=f"{i + 1:032x}",
                    sent_at=at,
                    interval_s=HEARTBEAT_S,
                    frames=frames,
                    fps=round(fps, 2),
                    target_fps=float(cam.fps),
                    latency_ms=round(rng.uniform(380, 650) if bad else rng.uniform(60, 110), 1),
                    latency_p95_ms=round(
                        rng.uniform(700, 900) if bad else rng.uniform(120, 180), 1
                    ),
                    dropped_frames=int(cam.fps * HEARTBEAT_S) - frames,
                    status="degraded" if bad else "ok",
                    detail="inference slower than the frame rate" if bad else None,
                )
            )
            at += timedelta(seconds=HEARTBEAT_S)
    return out


class LiveReplay:
    """Fill ``database_url`` with ``history`` of site activity up to ``now`` (and the same span a
    week before), then feed the next ``ahead`` in real time with :meth:`start`."""

    def __init__(
        self,
        database_url: str,
        site: Site,
        now: datetime,
        history: timedelta = timedelta(hours=2),
        ahead: timedelta = timedelta(minutes=10),
        fps: float = 1.0,
        walkers_per_minute: float = 4.0,
    ) -> None:
        self.site = site
        self.now = now
        self.conn = psycopg.connect(database_url)
        migrate(self.conn)
        self.writer = BatchWriter(self.conn, {site.id: site.counting.heatmap_cell_m})
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors: list[BaseException] = []
        week = timedelta(days=7)
        start = now - history
        span = (history + ahead).total_seconds()
        live: list[Message] = [
            *site_messages(site, start, span, fps, walkers_per_minute, seed=3),
            *heartbeats(site, start, now + ahead, now),
        ]
        before: list[Message] = [
            *site_messages(site, start - week, span, fps, walkers_per_minute * 0.8, seed=4),
            *heartbeats(site, start - week, now + ahead - week, now - week),
        ]
        live.sort(key=_at)
        self.pending = [m for m in live if _at(m) > now]
        self._write(
            [m for m in before if _at(m) <= now - week] + [m for m in live if _at(m) <= now]
        )

    def _write(self, messages: list[Message]) -> None:
        with self._lock:
            for i in range(0, len(messages), 5000):
                self.writer.write(messages[i : i + 5000])
            derive_all_dirty(self.conn, self.site)

    def feed(self, until: datetime) -> int:
        """Write the pending messages up to ``until``; returns how many."""
        due = [m for m in self.pending if _at(m) <= until]
        self.pending = self.pending[len(due) :]
        if due:
            self._write(due)
        return len(due)

    def add_people(self, zone_id: str, count: int, start: datetime, end: datetime) -> None:
        """``count`` people standing still in a zone from ``start`` to ``end`` (one per second)."""
        zone = self.site.zone(zone_id)
        cx = sum(p[0] for p in zone.polygon) / len(zone.polygon)
        cy = sum(p[1] for p in zone.polygon) / len(zone.polygon)
        camera = next(c for c in self.site.cameras if c.floor == zone.floor)
        # Half a second off the replay's frame times, so no frame key collides with one of its.
        at = self.now + timedelta(seconds=math.floor((start - self.now).total_seconds()) + 0.5)
        frames: list[Message] = []
        index = 0
        while at <= end:
            frames.append(
                FrameObservations(
                    site_id=self.site.id,
                    camera_id=camera.id,
                    node_id="replay",
                    run_id="f" * 32,
                    frame_index=index,
                    captured_at=at,
                    image_width=camera.resolution[0],
                    image_height=camera.resolution[1],
                    tracks=tuple(
                        TrackObservation(
                            track_id=f"feed{k:04x}",
                            box=(10.0 + 50 * k, 10.0, 50.0 + 50 * k, 120.0),
                            confidence=0.9,
                            floor_id=zone.floor,
                            floor_xy=(cx, cy),
                        )
                        for k in range(count)
                    ),
                )
            )
            at += timedelta(seconds=1)
            index += 1
        self._write(frames)

    def start(self) -> None:
        """Feed the pending messages each second, as their time comes, until :meth:`stop`."""

        def run() -> None:
            try:
                while not self._stop.wait(1.0):
                    self.feed(datetime.now(self.now.tzinfo))
            except BaseException as exc:  # reported by the test
                self.errors.append(exc)

        self._thread = threading.Thread(target=run, name="live-replay", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        self.conn.close()


def _at(m: Message) -> datetime:
    if isinstance(m, FrameObservations):
        return m.captured_at
    if isinstance(m, CameraHeartbeat):
        return m.sent_at
    raise TypeError(type(m))
