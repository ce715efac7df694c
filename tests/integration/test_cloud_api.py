"""The query API against TimescaleDB: auth, parameters, and answers equal to a reference."""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
from fastapi.testclient import TestClient
from synthetic import site_messages

from cloud.analytics.derive import derive_all_dirty
from cloud.api.app import ApiSettings, create_app
from cloud.api.auth import create_key
from cloud.ingest.writer import BatchWriter
from cloud.migrate import migrate
from footfall.contract import FrameObservations
from footfall.site import load_site

pytestmark = pytest.mark.integration

SITE = load_site(Path(__file__).resolve().parents[2] / "configs" / "sites" / "demo.yaml")
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
H = 0.3
ESTABLISH = timedelta(seconds=SITE.counting.line_establish_s)


def reference_crossings(frames: list[FrameObservations]) -> Counter[tuple[str, str, int]]:
    """(local hour, line, direction) → count, straight from the observations."""
    tracks: dict[tuple[str, str], list[tuple[datetime, float, float]]] = defaultdict(list)
    for f in frames:
        for t in f.tracks:
            assert t.floor_xy is not None
            tracks[(f.camera_id, t.track_id)].append((f.captured_at, *t.floor_xy))
    tz = ZoneInfo(SITE.site.timezone)
    out: Counter[tuple[str, str, int]] = Counter()
    for points in tracks.values():
        points.sort()
        for line in SITE.lines:
            (ax, ay), (bx, by) = line.a, line.b
            length = math.dist(line.a, line.b)
            side = seen = 0  # established side; side of the latest confirming points
            since = T0
            for at, x, y in points:
                along = ((x - ax) * (bx - ax) + (y - ay) * (by - ay)) / length
                if not -H <= along <= length + H:
                    side = seen = 0
                    continue
                right = ((bx - ax) * (y - ay) - (by - ay) * (x - ax)) / length
                inward = right if line.in_side == "right" else -right
                new = 1 if inward >= H else -1 if inward <= -H else 0
                if new == 0:
                    continue
                if new != seen:
                    seen, since = new, at
                if new != side and at - since >= ESTABLISH:
                    if side:  # dated at the first point on the new side
                        hour = since.astimezone(tz).replace(minute=0, second=0, microsecond=0)
                        out[(hour.isoformat(), line.id, new)] += 1
                    side = new
    return out


def reference_dwell(frames: list[FrameObservations]) -> dict[str, list[float]]:
    tracks: dict[tuple[str, str], list[tuple[datetime, float, float]]] = defaultdict(list)
    for f in frames:
        for t in f.tracks:
            assert t.floor_xy is not None
            tracks[(f.camera_id, t.track_id)].append((f.captured_at, *t.floor_xy))
    dwell: dict[str, list[float]] = defaultdict(list)
    for points in tracks.values():
        points.sort()
        for zone in SITE.zones:
            runs: list[list[datetime]] = []
            for at, x, y in points:
                if zone.contains(x, y):
                    if runs and (at - runs[-1][-1]).total_seconds() <= 2.0:
                        runs[-1].append(at)
                    else:
                        runs.append([at])
            for run in runs:
                seconds = (run[-1] - run[0]).total_seconds()
                if seconds >= 5.0:
                    dwell[zone.id].append(seconds)
    return dwell


@pytest.fixture()
def client_and_frames(database_url: str):  # type: ignore[no-untyped-def]
    frames = [
        m
        for m in site_messages(SITE, T0, duration_s=3600, fps=1, walkers_per_minute=4, seed=5)
        if isinstance(m, FrameObservations)
    ]
    with psycopg.connect(database_url) as conn:
        migrate(conn)
        writer = BatchWriter(conn, 0.5)
        for i in range(0, len(frames), 2000):
            writer.write(frames[i : i + 2000])
        derive_all_dirty(conn, SITE)
        token = create_key(conn, "demo", "test")
        other = create_key(conn, "elsewhere", "test")
    app = create_app(ApiSettings(database_url, [SITE]))
    with TestClient(app) as client:
        yield client, frames, token, other


def test_auth_and_readable_422s(client_and_frames) -> None:  # type: ignore[no-untyped-def]
    client, _, token, other = client_and_frames
    url = "/v1/sites/demo/footfall?from=2026-11-20T09:00&to=2026-11-20T11:00&bucket=1h"
    assert client.get(url).status_code == 401
    assert client.get(url, headers={"X-API-Key": "ffk_wrong"}).status_code == 401
    assert client.get(url, headers={"X-API-Key": other}).status_code == 403
    ok = {"X-API-Key": token}
    bad = client.get(url.replace("1h", "7 fortnights"), headers=ok)
    assert bad.status_code == 422 and "use e.g. 1m, 15m, 1h or 1d" in bad.json()["detail"]
    bad = client.get(url.replace("bucket=1h", "bucket=2d"), headers=ok)
    assert bad.status_code == 422 and "1 minute to 1 day" in bad.json()["detail"]
    bad = client.get(url.replace("from=2026-11-20T09:00", "from=yesterday"), headers=ok)
    assert bad.status_code == 422 and "is not a date-time" in bad.json()["detail"]
    day = client.get("/v1/sites/demo/footfall?from=2026-11-20T09:00", headers=ok)
    assert day.status_code == 200  # no `to`: a day after `from`, in hourly buckets
    hours = {row["bucket"] for row in day.json()["rows"]}
    assert hours and min(hours) >= "2026-11-20T09:00" and max(hours) < "2026-11-21T09:00"
    assert all(h.endswith(":00:00+00:00") for h in hours), hours
    assert client.get("/openapi.json").status_code == 200


def test_answers_equal_a_reference_computation(client_and_frames) -> None:  # type: ignore[no-untyped-def]
    client, frames, token, _ = client_and_frames
    ok = {"X-API-Key": token}
    rng = "from=2026-11-20T08:00Z&to=2026-11-20T12:00Z"
    body = client.get(f"/v1/sites/demo/footfall?{rng}&bucket=1h", headers=ok).json()
    got: Counter[tuple[str, str, int]] = Counter()
    for row in body["rows"]:
        got[(row["bucket"], row["line_id"], 1)] += row["ins"]
        got[(row["bucket"], row["line_id"], -1)] += row["outs"]
    expected = reference_crossings(frames)
    assert +got == +expected and sum(expected.values()) > 0

    dwell = client.get(f"/v1/sites/demo/dwell?{rng}", headers=ok).json()["rows"]
    ref = reference_dwell(frames)
    assert {r["zone_id"]: r["visits"] for r in dwell} == {z: len(v) for z, v in ref.items() if v}
    for r in dwell:
        values = sorted(ref[r["zone_id"]])
        assert r["mean_s"] == pytest.approx(statistics.fmean(values))
        assert r["median_s"] == pytest.approx(statistics.median(values))
        p90 = (
            statistics.quantiles(values, n=10, method="inclusive")[-1]
            if len(values) > 1
            else values[0]
        )
        assert r["p90_s"] == pytest.approx(p90)

    heat = client.get(f"/v1/sites/demo/heatmap?{rng}&bucket=1d&cell_m=1", headers=ok).json()
    total = sum(c[2] for cells in heat["buckets"].values() for c in cells)
    assert total == sum(len(f.tracks) for f in frames)

    csv = client.get(f"/v1/sites/demo/footfall?{rng}&bucket=1h&format=csv", headers=ok)
    assert csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0] == "bucket,line_id,ins,outs"
    png = client.get(f"/v1/sites/demo/heatmap.png?{rng}", headers=ok)
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
    for path in ("occupancy", "flows", "visitors"):
        assert client.get(f"/v1/sites/demo/{path}?{rng}&bucket=15m", headers=ok).status_code == 200
    now = client.get("/v1/sites/demo/occupancy/now?at=2026-11-20T10:00:00Z", headers=ok)
    assert set(now.json()["zones"]) == {z.id for z in SITE.zones}
    with client.stream("GET", "/v1/sites/demo/occupancy/stream?events=1", headers=ok) as sse:
        assert "event: occupancy" in "".join(sse.iter_text())
    assert client.get("/v1/sites/demo/cameras", headers=ok).status_code == 200


def test_footfall_with_only_a_key_answers_today(database_url: str) -> None:
    """No from/to: today in the site's time zone (and a bucket that suits a day)."""
    tz = ZoneInfo(SITE.site.timezone)
    today = datetime.now(tz).date()
    start = datetime(today.year, today.month, today.day, 0, 1, tzinfo=tz)
    frames = [
        m
        for m in site_messages(SITE, start, duration_s=600, fps=1, walkers_per_minute=6, seed=8)
        if isinstance(m, FrameObservations)
    ]
    with psycopg.connect(database_url) as conn:
        migrate(conn)
        BatchWriter(conn, 0.5).write(frames)
        derive_all_dirty(conn, SITE)
        token = create_key(conn, "demo", "test")
    with TestClient(create_app(ApiSettings(database_url, [SITE]))) as client:
        ok = {"X-API-Key": token}
        plain = client.get("/v1/sites/demo/footfall", headers=ok)
        assert plain.status_code == 200, plain.text
        day = f"from={today}T00:00&to={today + timedelta(days=1)}T00:00&bucket=1h"
        explicit = client.get(f"/v1/sites/demo/footfall?{day}", headers=ok).json()
        assert plain.json() == explicit
        assert sum(r["ins"] + r["outs"] for r in explicit["rows"]) > 0
