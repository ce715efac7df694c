"""Cloud benchmark: ingest rate vs raw COPY rate, and API latency over 30+ days of data.

    python bench/cloud/bench_cloud.py --database-url URL --bootstrap-servers HOST:PORT

Prints messages/s and observations/s through the real ingest chain (broker → decode → batch →
TimescaleDB → offset commit), the raw COPY rate of the same rows into an identical table in the
same run, their ratio, and API p50/p99 latency over ``--days`` of synthetic data.
"""

from __future__ import annotations

import argparse
import random
import statistics
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from fastapi.testclient import TestClient
from kafka import KafkaProducer

from cloud.analytics.derive import derive_all_dirty
from cloud.api.app import ApiSettings, create_app
from cloud.api.auth import create_key
from cloud.bus import INGEST_TOPICS, KafkaDeadLetters, KafkaSource, ensure_topics, topic_name
from cloud.ingest.pipeline import IngestPipeline
from cloud.ingest.writer import BatchWriter
from cloud.migrate import migrate
from cloud.settings import AnalyticsSettings
from cloud.synthetic import site_messages
from footfall.contract import FrameObservations, TrackObservation, encode, partition_key, topic_for
from footfall.site import load_site

SITE = load_site(Path(__file__).resolve().parents[2] / "configs" / "sites" / "demo.yaml")


def crowded_frames(n: int, tracks: int) -> list[FrameObservations]:
    rng = random.Random(1)
    t0 = datetime.now(UTC) - timedelta(hours=2)
    cams = [c.id for c in SITE.cameras]
    out = []
    for i in range(n):
        obs = tuple(
            TrackObservation(
                track_id=f"{(i // 50) * tracks + k:016x}",
                box=(10.0, 10.0, 50.0, 120.0),
                confidence=0.9,
                floor_id="l0",
                floor_xy=(round(rng.uniform(0, 90), 2), round(rng.uniform(0, 40), 2)),
            )
            for k in range(tracks)
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


def bench_ingest(url: str, servers: str, frames: list[FrameObservations]) -> None:
    ns = f"bench-{uuid.uuid4().hex[:8]}"
    ensure_topics(servers, partitions=12, namespace=ns)
    producer = KafkaProducer(
        bootstrap_servers=servers,
        linger_ms=50,
        batch_size=1 << 20,
        compression_type="lz4" if False else None,
    )
    for f in frames:
        producer.send(topic_name(topic_for(f), ns), key=partition_key(f), value=encode(f))
    producer.flush()
    producer.close()
    with psycopg.connect(url) as conn:
        migrate(conn)
        source = KafkaSource(servers, f"g-{ns}", [topic_name(t, ns) for t in INGEST_TOPICS])
        pipe = IngestPipeline(
            source,
            BatchWriter(conn, 0.5),
            KafkaDeadLetters(servers, ns),
            {"demo": frozenset(c.id for c in SITE.cameras)},
            2000,
            1.0,
            namespace=ns,
        )
        while pipe.stats.records == 0:  # group join
            pipe.step(0.5)
        start = time.perf_counter()
        first = pipe.stats.records
        while pipe.stats.records < len(frames):
            pipe.step(0.5)
        pipe.flush()
        elapsed = time.perf_counter() - start
        msgs = pipe.stats.records - first
        obs = sum(len(f.tracks) for f in frames) * msgs / len(frames)
        pipe.run(threading.Event(), idle_exit_s=0.0)
        # Raw COPY of the same rows into an identical table, same run.
        conn.execute("CREATE TABLE raw_copy (LIKE observation INCLUDING ALL)")
        conn.execute(
            "SELECT create_hypertable('raw_copy', by_range('captured_at', INTERVAL '6 hours'))"
        )
        conn.commit()
        t = time.perf_counter()
        with conn.cursor().copy("COPY raw_copy FROM STDIN") as copy:
            for f in frames:
                for o in f.tracks:
                    copy.write_row(
                        (
                            f.site_id,
                            f.camera_id,
                            f.captured_at,
                            o.track_id,
                            f.run_id,
                            *o.box,
                            o.confidence,
                            o.floor_id,
                            *(o.floor_xy or (None, None)),
                        )
                    )
        conn.commit()
        raw = sum(len(f.tracks) for f in frames) / (time.perf_counter() - t)
    print(
        f"ingest: {msgs / elapsed:,.0f} messages/s, {obs / elapsed:,.0f} observations/s "
        f"({len(frames[0].tracks)} tracks per frame, {msgs} messages)"
    )
    print(f"raw COPY into an identical hypertable: {raw:,.0f} observations/s")
    print(f"ratio ingest / raw COPY: {obs / elapsed / raw:.2f}")


def bench_api(url: str, days: int, requests: int) -> None:
    start = datetime(2026, 10, 1, tzinfo=UTC)
    with psycopg.connect(url) as conn:
        migrate(conn)
        writer = BatchWriter(conn, 0.5)
        for d in range(days):
            msgs = site_messages(
                SITE, start + timedelta(days=d), 86400, fps=0.2, walkers_per_minute=0.5, seed=d
            )
            writer.write(msgs)  # type: ignore[arg-type]
            derive_all_dirty(conn, SITE, AnalyticsSettings())
        token = create_key(conn, "demo", "bench")
    end = start + timedelta(days=days)
    rng = f"from={start.isoformat()}&to={end.isoformat()}".replace("+00:00", "Z")
    paths = [
        f"footfall?{rng}&bucket=1h",
        f"footfall?{rng}&bucket=1d",
        f"occupancy?{rng}&bucket=1h",
        f"dwell?{rng}",
        f"flows?{rng}",
        f"heatmap?{rng}&bucket=1d&cell_m=2",
    ]
    with TestClient(create_app(ApiSettings(url, [SITE]))) as client:
        for path in paths:
            times = []
            for _ in range(requests):
                t = time.perf_counter()
                assert (
                    client.get(f"/v1/sites/demo/{path}", headers={"X-API-Key": token}).status_code
                    == 200
                )
                times.append((time.perf_counter() - t) * 1000)
            times.sort()
            p99 = times[min(len(times) - 1, int(0.99 * len(times)))]
            print(
                f"API {path.split('?')[0]:10s} {path.split('&')[-1]:14s} over {days} days: "
                f"p50 {statistics.median(times):.1f} ms, p99 {p99:.1f} ms"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--bootstrap-servers", required=True)
    parser.add_argument("--frames", type=int, default=15000)
    parser.add_argument("--tracks", type=int, default=20)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    bench_ingest(
        args.database_url, args.bootstrap_servers, crowded_frames(args.frames, args.tracks)
    )
    bench_api(args.database_url, args.days, args.requests)


if __name__ == "__main__":
    main()
