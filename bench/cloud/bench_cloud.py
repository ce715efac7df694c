"""Cloud benchmark: ingest rate vs raw COPY rate, and API latency over 30+ days of data.

    python bench/cloud/bench_cloud.py --database-url URL --bootstrap-servers HOST:PORT

Prints one table: messages/s and observations/s through the real ingest chain (broker → decode →
batch → TimescaleDB → offset commit), once without the analytics derivation and once with it on
the cadence that ``footfall cloud ingest`` uses, the raw COPY rate of the same rows into a table
of the same shape in the same run and the ratio of each ingest rate to it, the ceilings of the
single steps measured alone in the same run (kafka-python fetch, contract decode), and API
p50/p99 latency over ``--days`` of data.

Rates are steady state: the clock starts when the first poll returns records (the consumer-group
join before it is not ingest work) and every record is counted, the first poll's included.

The API data is written straight into the raw tables with COPY (frames, observations, tracks;
synthetic walkers, see ``tests/support/synthetic.py``) one day at a time, each day followed by
the real analytics derivation, so 30 days take about a minute instead of an hour of pydantic
objects.
"""

from __future__ import annotations

import argparse
import math
import random
import shlex
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from fastapi.testclient import TestClient
from kafka import KafkaProducer

from cloud.analytics.derive import derive_all_dirty, derive_dirty, rebuild_heatmap
from cloud.api.app import ApiSettings, create_app
from cloud.api.auth import create_key
from cloud.ingest.decode import decode_records
from cloud.ingest.pipeline import IngestPipeline
from cloud.ingest.service import tune_gc
from cloud.ingest.writer import BatchWriter
from cloud.migrate import migrate
from cloud.settings import IngestSettings
from cloud.transport.kafka import (
    INGEST_TOPICS,
    KafkaDeadLetters,
    KafkaSource,
    ensure_topics,
    topic_name,
)
from cloud.transport.types import Record
from footfall.contract import FrameObservations, TrackObservation, encode, partition_key, topic_for
from footfall.site import load_site

# The synthetic walkers live with the tests (tests/support), not in the package.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "support"))
from synthetic import camera_area, walker_path

SITE = load_site(Path(__file__).resolve().parents[2] / "configs" / "sites" / "demo.yaml")
CAMERAS = {"demo": frozenset(c.id for c in SITE.cameras)}
Row = tuple[str, str]


def crowded_frames(n: int, tracks: int) -> list[FrameObservations]:
    """``n`` frames of 3 cameras at 10 fps each, ``tracks`` people walking in every frame.

    Each person walks at 1.2 m/s in a straight line (bouncing off the floor's edges) for 300
    frames (10 s per camera), then a new group of people takes over.
    """
    rng = random.Random(1)
    t0 = datetime.now(UTC) - timedelta(hours=2)
    cams = [c.id for c in SITE.cameras]
    walkers: list[tuple[float, float, float, float]] = []
    out = []
    for i in range(n):
        group, step = divmod(i, 300)
        if step == 0:
            walkers = []
            for _ in range(tracks):
                heading = rng.uniform(0, 2 * math.pi)
                walkers.append(
                    (rng.uniform(0, 90), rng.uniform(0, 40), math.cos(heading), math.sin(heading))
                )
        t = step // 3 * 0.1
        obs = tuple(
            TrackObservation(
                track_id=f"{group * tracks + k:016x}",
                box=(10.0, 10.0, 50.0, 120.0),
                confidence=0.9,
                floor_id="l0",
                floor_xy=(_bounce(x + 1.2 * t * dx, 90), _bounce(y + 1.2 * t * dy, 40)),
            )
            for k, (x, y, dx, dy) in enumerate(walkers)
        )
        out.append(
            FrameObservations(
                site_id="demo",
                camera_id=cams[i % 3],
                node_id="bench",
                run_id="ab" * 8,
                frame_index=i,
                captured_at=t0 + timedelta(milliseconds=100 * (i // 3)),
                image_width=640,
                image_height=480,
                tracks=obs,
            )
        )
    return out


def _bounce(v: float, size: float) -> float:
    v = abs(v) % (2 * size)
    return round(size - abs(size - v), 2)


class Clock:
    """Wraps a source: notes when the first poll returned records."""

    def __init__(self, source: KafkaSource) -> None:
        self.source = source
        self.first: float | None = None

    def poll(self, timeout_s: float) -> list[Record]:
        records = self.source.poll(timeout_s)
        if records and self.first is None:
            self.first = time.perf_counter()
        return records

    def __getattr__(self, name: str) -> object:
        return getattr(self.source, name)


def produce(servers: str, ns: str, frames: list[FrameObservations]) -> list[bytes]:
    ensure_topics(servers, partitions=12, namespace=ns)
    values = [encode(f) for f in frames]
    producer = KafkaProducer(bootstrap_servers=servers, linger_ms=50, batch_size=1 << 20)
    for f, v in zip(frames, values, strict=True):
        producer.send(topic_name(topic_for(f), ns), key=partition_key(f), value=v)
    producer.flush()
    producer.close()
    return values


def bench_fetch(servers: str, ns: str, n: int) -> float:
    """kafka-python alone: seconds to poll ``n`` records (steady state), nothing else."""
    clock = Clock(KafkaSource(servers, f"f-{ns}", [topic_name(t, ns) for t in INGEST_TOPICS]))
    got = 0
    while got < n:
        got += len(clock.poll(0.5))
    elapsed = time.perf_counter() - (clock.first or 0.0)
    clock.source.close()
    return elapsed


def bench_decode(values: list[bytes]) -> float:
    """The contract decode and routing checks alone: seconds for all records."""
    topic = topic_name(INGEST_TOPICS[0], "x")
    records = [Record(topic, 0, i, None, v) for i, v in enumerate(values)]
    start = time.perf_counter()
    for k in range(0, len(records), 2000):
        decoded = decode_records(records[k : k + 2000], CAMERAS, "x")
        assert not decoded.dead
    return time.perf_counter() - start


def bench_ingest(
    conn: psycopg.Connection[tuple[object, ...]],
    derive_conn: psycopg.Connection[tuple[object, ...]],
    servers: str,
    ns: str,
    n: int,
    derive: bool = True,
) -> tuple[float, float, int]:
    """The real chain with the service's settings; (seconds, seconds deriving, observations).

    Without ``derive`` the analytics derivation is left out (tracks stay dirty).
    """
    settings = IngestSettings()
    analytics = SITE.counting
    source = KafkaSource(
        servers,
        f"g-{ns}-{'derive' if derive else 'raw'}",
        [topic_name(t, ns) for t in INGEST_TOPICS],
        max_poll_records=settings.poll_max_records,
    )
    clock = Clock(source)
    deriving = [0.0]
    last = [time.monotonic()]

    def after_flush() -> None:  # as cloud.ingest.service does: derive every analytics_interval_s
        if time.monotonic() - last[0] >= settings.analytics_interval_s:
            last[0] = time.monotonic()
            t = time.perf_counter()
            derive_dirty(derive_conn, SITE)
            deriving[0] += time.perf_counter() - t

    pipe = IngestPipeline(
        clock,  # type: ignore[arg-type]
        BatchWriter(conn, {SITE.id: analytics.heatmap_cell_m}),
        KafkaDeadLetters(servers, ns),
        CAMERAS,
        settings.batch_messages,
        settings.batch_seconds,
        after_flush=after_flush if derive else None,
        namespace=ns,
    )
    while pipe.stats.records < n:
        pipe.step(0.5)
    pipe.flush()
    elapsed = time.perf_counter() - (clock.first or 0.0)
    pipe.run(threading.Event(), idle_exit_s=0.0)
    assert pipe.stats.frames == n and pipe.stats.dead_letters == 0, pipe.stats
    return elapsed, deriving[0], pipe.stats.observations


def observation_text(frames: list[FrameObservations]) -> bytes:
    lines = []
    for f in frames:
        prefix = f"{f.site_id}\t{f.camera_id}\t{f.captured_at.isoformat()}\t{f.run_id}\t"
        for o in f.tracks:
            x, y = o.floor_xy or (0.0, 0.0)
            lines.append(
                f"{prefix}{o.track_id}\t{o.box[0]!r}\t{o.box[1]!r}\t{o.box[2]!r}\t{o.box[3]!r}"
                f"\t{o.confidence!r}\t{o.floor_id}\t{x!r}\t{y!r}\n"
            )
    return "".join(lines).encode()


_OBS_COLUMNS = (
    "site_id, camera_id, captured_at, run_id, track_id, x1, y1, x2, y2, confidence, floor_id, "
    "x_m, y_m"
)


def bench_raw_copy(conn: psycopg.Connection[tuple[object, ...]], data: bytes) -> float:
    """Seconds to COPY the same rows (pre-formatted) into a table shaped like ``observation``."""
    conn.execute("DROP TABLE IF EXISTS raw_copy")
    conn.execute("CREATE TABLE raw_copy (LIKE observation INCLUDING ALL)")
    conn.execute(
        "SELECT create_hypertable('raw_copy', by_range('captured_at', INTERVAL '6 hours'), "
        "create_default_indexes => false)"
    )
    conn.commit()
    start = time.perf_counter()
    with conn.cursor().copy(f"COPY raw_copy ({_OBS_COLUMNS}) FROM STDIN") as copy:
        copy.write(data)
    conn.commit()
    elapsed = time.perf_counter() - start
    conn.execute("DROP TABLE raw_copy")
    conn.commit()
    return elapsed


def load_days(
    conn: psycopg.Connection[tuple[object, ...]],
    start: datetime,
    days: int,
    fps: float,
    walkers_per_minute: float,
    log: Callable[[str], None],
) -> int:
    """COPY ``days`` of synthetic walkers into the raw tables, deriving after each day."""
    rng = random.Random(7)
    analytics = SITE.counting
    total = 0
    for d in range(days):
        day0 = start + timedelta(days=d)
        obs: list[str] = []
        frames: list[str] = []
        tracks: list[str] = []
        for cam in SITE.cameras:
            area = camera_area(cam)
            run = f"{rng.getrandbits(128):032x}"
            width, height = cam.resolution
            counts: dict[int, int] = {}
            t = 0.0
            while True:
                t += rng.expovariate(walkers_per_minute / 60.0)
                tick0 = math.ceil(t * fps)
                path = walker_path(rng, area, fps)
                if (tick0 + len(path)) / fps >= 86400:
                    break
                tid = f"{rng.getrandbits(64):016x}"
                for j, (x, y) in enumerate(path):
                    tick = tick0 + j
                    counts[tick] = counts.get(tick, 0) + 1
                    at = (day0 + timedelta(seconds=tick / fps)).isoformat()
                    u = (x - area[0]) / max(area[2] - area[0], 1e-6) * (width - 41)
                    obs.append(
                        f"demo\t{cam.id}\t{at}\t{run}\t{tid}\t{u:.1f}\t10\t{u + 40:.1f}\t120\t0.9"
                        f"\t{cam.floor}\t{x:.3f}\t{y:.3f}\n"
                    )
                first = day0 + timedelta(seconds=tick0 / fps)
                last = day0 + timedelta(seconds=(tick0 + len(path) - 1) / fps)
                tracks.append(
                    f"demo\t{cam.id}\t{tid}\t{run}\t{first.isoformat()}\t{last.isoformat()}\tt\n"
                )
            for tick, count in sorted(counts.items()):
                at = (day0 + timedelta(seconds=tick / fps)).isoformat()
                frames.append(
                    f"demo\t{cam.id}\t{at}\tsynthetic\t{run}\t{tick}\t{width}\t{height}\t{count}\n"
                )
        with conn.transaction():
            for sql, lines in (
                ("COPY frame FROM STDIN", frames),
                (f"COPY observation ({_OBS_COLUMNS}) FROM STDIN", obs),
                (
                    "COPY track (site_id, camera_id, track_id, run_id, first_at, last_at, dirty)"
                    " FROM STDIN",
                    tracks,
                ),
            ):
                with conn.cursor().copy(sql) as copy:
                    copy.write("".join(lines).encode())
            rebuild_heatmap(conn, "demo", day0, day0 + timedelta(days=1), analytics.heatmap_cell_m)
        derive_all_dirty(conn, SITE)
        total += len(obs)
        if d % 10 == 9 or d == days - 1:
            log(f"  api data: {d + 1}/{days} days, {total:,} observations")
    return total


def bench_api(
    conn: psycopg.Connection[tuple[object, ...]], url: str, start: datetime, days: int, n: int
) -> list[tuple[str, float, float]]:
    token = create_key(conn, "demo", "bench")
    end = start + timedelta(days=days)
    rng = f"from={start.isoformat()}&to={end.isoformat()}".replace("+00:00", "Z")
    paths = [
        ("footfall 1h", f"footfall?{rng}&bucket=1h"),
        ("footfall 1d", f"footfall?{rng}&bucket=1d"),
        ("occupancy 1h", f"occupancy?{rng}&bucket=1h"),
        ("dwell", f"dwell?{rng}"),
        ("flows", f"flows?{rng}"),
        ("heatmap 1d 2m", f"heatmap?{rng}&bucket=1d&cell_m=2"),
    ]
    out = []
    with TestClient(create_app(ApiSettings(url, [SITE]))) as client:
        for name, path in paths:
            times = []
            for _ in range(n):
                t = time.perf_counter()
                response = client.get(f"/v1/sites/demo/{path}", headers={"X-API-Key": token})
                times.append((time.perf_counter() - t) * 1000)
                assert response.status_code == 200, response.text
            times.sort()
            p99 = times[min(len(times) - 1, math.ceil(0.99 * len(times)) - 1)]
            out.append((name, statistics.median(times), p99))
    return out


def _truncate(conn: psycopg.Connection[tuple[object, ...]]) -> None:
    for table in ("observation", "frame", "track", "heatmap_minute", "line_crossing"):
        conn.execute(f"TRUNCATE {table}")
    conn.execute("TRUNCATE zone_visit, footfall_minute, occupancy_minute, track_state")
    conn.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--bootstrap-servers", required=True)
    parser.add_argument("--frames", type=int, default=30000)
    parser.add_argument("--tracks", type=int, default=20, help="people in every frame")
    parser.add_argument("--days", type=int, default=30, help="days of data behind the API")
    parser.add_argument(
        "--api-fps", type=float, default=0.5, help="≥ 0.5: zone visits need points ≤ 2 s apart"
    )
    parser.add_argument("--api-walkers", type=float, default=0.5, help="per camera and minute")
    parser.add_argument("--requests", type=int, default=50, help="per API endpoint")
    args = parser.parse_args()

    def log(text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    url, servers = args.database_url, args.bootstrap_servers
    ns = f"bench-{uuid.uuid4().hex[:8]}"
    frames = crowded_frames(args.frames, args.tracks)
    n_obs = sum(len(f.tracks) for f in frames)
    log(f"producing {len(frames):,} frames ({n_obs:,} observations) to {ns}.*")
    values = produce(servers, ns, frames)
    log("kafka-python fetch alone")
    fetch_s = bench_fetch(servers, ns, len(frames))
    log("decode alone, CPython's default garbage collection")
    decode_default_gc_s = bench_decode(values)
    tune_gc()  # as `footfall cloud ingest` does; from here on the ingest process's settings
    log("decode alone")
    decode_s = bench_decode(values)
    with psycopg.connect(url) as conn, psycopg.connect(url) as derive_conn:
        migrate(conn)
        log("ingest without derivation")
        plain_s, _, ingested = bench_ingest(conn, derive_conn, servers, ns, len(frames), False)
        assert ingested == n_obs
        _truncate(conn)
        log("ingest with derivation")
        ingest_s, derive_s, ingested = bench_ingest(conn, derive_conn, servers, ns, len(frames))
        assert ingested == n_obs
        t = time.perf_counter()
        derive_all_dirty(derive_conn, SITE)
        catch_up_s = time.perf_counter() - t
        log("raw COPY")
        raw_s = bench_raw_copy(conn, observation_text(frames))
        _truncate(conn)  # the API data starts from empty tables
        log(f"api data: {args.days} days")
        api_start = datetime(2026, 10, 1, tzinfo=UTC)
        t = time.perf_counter()
        api_obs = load_days(conn, api_start, args.days, args.api_fps, args.api_walkers, log)
        load_s = time.perf_counter() - t
        latencies = bench_api(conn, url, api_start, args.days, args.requests)

    mb = sum(map(len, values)) / 1e6
    interval = IngestSettings().analytics_interval_s
    plain_rate = n_obs / plain_s
    ingest_rate = n_obs / ingest_s
    raw_rate = n_obs / raw_s
    rows = [
        ("ingest without derivation (broker → decode → DB → commit)", "", ""),
        ("  messages/s", f"{len(frames) / plain_s:,.0f}", f"{len(frames):,} frames"),
        ("  observations/s", f"{plain_rate:,.0f}", f"{args.tracks} per frame"),
        ("  ratio to raw COPY", f"{plain_rate / raw_rate:.2f}", ""),
        (f"ingest with derivation (derive every {interval:g} s, as the service does)", "", ""),
        ("  messages/s", f"{len(frames) / ingest_s:,.0f}", f"{len(frames):,} frames"),
        ("  observations/s", f"{ingest_rate:,.0f}", f"{args.tracks} per frame"),
        ("  ratio to raw COPY", f"{ingest_rate / raw_rate:.2f}", ""),
        ("  time in analytics derivation", f"{derive_s / ingest_s:.0%}", "of ingest time"),
        ("  derivation catch-up after", f"{catch_up_s:.1f} s", ""),
        ("raw COPY, same rows, table shaped like observation", f"{raw_rate:,.0f}", "obs/s"),
        (
            "kafka-python fetch alone",
            f"{len(frames) / fetch_s:,.0f}",
            f"msg/s, {mb / fetch_s:.1f} MB/s",
        ),
        ("  as observations", f"{n_obs / fetch_s:,.0f}", "obs/s"),
        ("contract decode alone", f"{n_obs / decode_s:,.0f}", "obs/s"),
        (
            "  with CPython's default GC thresholds",
            f"{n_obs / decode_default_gc_s:,.0f}",
            f"obs/s (ingest's GC settings: {decode_default_gc_s / decode_s:.1f}x faster)",
        ),
        (f"API data: {args.days} days", f"{api_obs:,}", f"observations, loaded in {load_s:.0f} s"),
    ]
    rows += [
        (f"API {name} over {args.days} days", f"{p50:.1f} ms", f"p99 {p99:.1f} ms")
        for name, p50, p99 in latencies
    ]
    print("$ " + shlex.join([Path(sys.executable).name, *sys.argv]))
    width = max(len(r[0]) for r in rows)
    for name, value, note in rows:
        print(f"{name:<{width}}  {value:>12}  {note}")


if __name__ == "__main__":
    main()
