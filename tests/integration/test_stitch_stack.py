"""The smoke scenario through the real broker, the real ingest and the stitcher (TimescaleDB).

Checks the stitched ids against the simulator's truth, that redelivering the whole stream and
stitching again changes nothing, and that the API counts unique visitors from stitched ids.
"""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime

import psycopg
import pytest
from fastapi.testclient import TestClient

from cloud.api.app import ApiSettings, create_app
from cloud.api.auth import create_key
from cloud.migrate import migrate
from cloud.stitch.stitcher import MODES, StitchSettings
from cloud.stitch.store import load_decided, load_tracklets, stitch_pass
from cloud.stitch.visitors import MIN_VISITOR_S, counted
from cloud.transport.kafka import ensure_topics
from footfall.evaluation.stitching import evaluate
from footfall.evaluation.stitching_stack import ingest, publish, stored_analytics
from footfall.simulate import Simulation, scenario
from footfall.site import load_site

pytestmark = pytest.mark.integration

EARLY = datetime(2000, 1, 1, tzinfo=UTC)
LATE = datetime(2099, 1, 1, tzinfo=UTC)


def stitch_all(url: str, site) -> dict[str, dict[object, str]]:  # type: ignore[no-untyped-def]
    """Per mode, the visitor id of every stored tracklet, by its key (the database lists rows in
    no fixed order: two loads need not agree on it)."""
    with psycopg.connect(url) as conn:
        migrate(conn)
        for mode in MODES:
            stitch_pass(conn, site, StitchSettings(mode=mode), now=LATE, since=EARLY)
            conn.commit()
        t = load_tracklets(conn, site, EARLY, LATE)
        return {
            mode: dict(zip(t.keys, load_decided(conn, site.id, mode, t), strict=True))
            for mode in MODES
        }


def stored_tracks(url: str, site_id: str) -> dict[tuple[str, str], tuple[float, float]]:
    """(camera, track) -> (first, last seen, s) of the stored tracks the API counts from."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT camera_id, track_id, extract(epoch FROM first_at)::float8, "
            "extract(epoch FROM last_at)::float8 FROM track WHERE site_id = %s",
            (site_id,),
        ).fetchall()
    return {(r[0], r[1]): (r[2], r[3]) for r in rows}


def test_smoke_scenario_is_stitched_through_the_real_stack(
    database_url: str, bootstrap_servers: str
) -> None:
    sc = scenario("smoke")
    site = load_site(sc.site)
    sim = Simulation(site, sc, seed=11)
    chunks = list(sim.chunks())
    ns = f"stitch-{uuid.uuid4().hex[:8]}"
    ensure_topics(bootstrap_servers, partitions=4, namespace=ns)
    publish(bootstrap_servers, ns, chunks)
    ingest(database_url, bootstrap_servers, site, ns)
    with psycopg.connect(database_url) as conn:
        token = create_key(conn, site.id, "test")
    app = create_app(ApiSettings(database_url, [site]))
    ok = {"X-API-Key": token}
    rng = "from=2026-11-20T10:00&to=2026-11-20T13:00"
    with TestClient(app) as client:  # before stitching: every local track is a visitor
        summary = client.get(f"/v1/sites/{site.id}/visitors/summary?{rng}", headers=ok).json()
        assert summary["unstitched_tracks"] == len(sim.truth.tracks)
        # every track its own visitor; those seen too briefly are held back (the one rule)
        tracks = stored_tracks(database_url, site.id)
        alone = counted((f"{c}/{k}", a, b) for (c, k), (a, b) in tracks.items())
        assert summary["unique_visitors"] == len(alone) < len(tracks)
        assert summary["held_back_visitors"] == len(tracks) - len(alone)
        assert summary["counted_after_s"] == MIN_VISITOR_S
    decided = stitch_all(database_url, site)

    with psycopg.connect(database_url) as conn:
        t = load_tracklets(conn, site, EARLY, LATE)
        crossings, visits = stored_analytics(conn, site.id)
        rows = conn.execute("SELECT count(*) FROM tracklet_visitor").fetchone()
    assert len(t) == len(sim.truth.tracks)
    assert rows is not None and rows[0] == len(MODES) * len(t)
    first = {mode: [ids[k] for k in t.keys] for mode, ids in decided.items()}
    assert all(all(ids) for ids in first.values())
    result = evaluate(site, sim.truth, t, crossings, visits, MODES, assigned=first)
    assert result["combined"]["mtmc_idf1"] >= 0.8  # Re-ID as hard as real (README, "Simulator")
    assert result["combined"]["mtmc_idf1"] > result["local"]["mtmc_idf1"] + 0.2
    assert abs(result["combined"]["unique_visitors_error"]) < 0.3
    assert abs(result["combined"]["entrance_count_error"]) <= 0.2

    # everything delivered again, ingested and stitched again: nothing changes
    publish(bootstrap_servers, ns, chunks)
    ingest(database_url, bootstrap_servers, site, ns)
    again = stitch_all(database_url, site)
    assert again == decided
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT count(*) FROM tracklet_visitor").fetchone()
        assert rows is not None and rows[0] == len(MODES) * len(t)

    with TestClient(app) as client:
        summary = client.get(f"/v1/sites/{site.id}/visitors/summary?{rng}", headers=ok).json()
        by_track = {(k[0], k[2]): v for k, v in zip(t.keys, first["combined"], strict=True)}
        unique = counted((by_track[key], a, b) for key, (a, b) in tracks.items())
        assert summary["unique_visitors"] == len(unique) < len(set(first["combined"]))
        assert summary["held_back_visitors"] == len(set(first["combined"])) - len(unique)
        assert summary["unstitched_tracks"] == 0
        # Ten minutes of smoke: nobody can be away for the 30-minute return gap (the cases of
        # a returning visitor are in test_returning_visitors.py).
        assert summary["returning_visitors"] == 0
        listed = client.get(f"/v1/sites/{site.id}/visitors?{rng}&limit=10000", headers=ok).json()
        assert {r["visitor_id"] for r in listed["rows"]} == set(first["combined"])
        assert sum(r["tracks"] for r in listed["rows"]) == len(t)

        # Flows follow the stitched visitor across cameras: equal to the same count done here
        # over the stored visits (every visit of the scenario lies inside the range).
        with psycopg.connect(database_url) as conn:
            stored = conn.execute(
                """
                SELECT coalesce(s.visitor_id, z.camera_id || '/' || z.track_id), z.zone_id,
                       z.enter_at, z.camera_id
                FROM zone_visit z LEFT JOIN tracklet_visitor s
                  ON s.site_id = z.site_id AND s.camera_id = z.camera_id
                 AND s.track_id = z.track_id AND s.mode = 'combined'
                """
            ).fetchall()
        by_visitor: dict[str, list[tuple[object, str]]] = {}
        cameras_of_zone: dict[str, set[str]] = {}
        for visitor, zone, enter_at, camera in stored:
            by_visitor.setdefault(visitor, []).append((enter_at, zone))
            cameras_of_zone.setdefault(zone, set()).add(camera)
        expected: dict[tuple[str, str], int] = {}
        for seq in by_visitor.values():
            zones = [zone for _, zone in sorted(seq)]
            for a, b in itertools.pairwise(zones):
                if a != b:
                    expected[(a, b)] = expected.get((a, b), 0) + 1
        flows = client.get(f"/v1/sites/{site.id}/flows?{rng}", headers=ok).json()["rows"]
        assert {(f["from_zone"], f["to_zone"]): f["people"] for f in flows} == expected
        # at least one move between zones that no single camera sees both of
        assert any(not (cameras_of_zone[a] & cameras_of_zone[b]) for a, b in expected)
