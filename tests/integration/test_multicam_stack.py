"""Cameras without appearance through the real stack: the two PETS views replayed from their
detection files (tracklet ends without embeddings) → broker → ingest (migration 008) → the
stitcher's database pass, which decides every tracklet as the in-process stitcher does (the
path `footfall eval`'s multi-camera groups take)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from cloud.migrate import migrate
from cloud.stitch.stitcher import StitchSettings, stitch
from cloud.stitch.store import load_decided, load_tracklets, stitch_pass
from cloud.stitch.topology import CameraTopology
from cloud.stitch.tracklets import from_messages
from cloud.transport.kafka import ensure_topics
from edge.config import load_edge_config
from edge.pipeline import Identity
from edge.replay import replay
from footfall.contract import Message, TrackletEnded, new_run_id
from footfall.evaluation.stitching_stack import ingest, publish
from footfall.site import load_site

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
DATA = (REPO / ".." / "shared" / "data" / "pets2009_s2l1_multiview").resolve()
T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)
EARLY = datetime(2000, 1, 1, tzinfo=UTC)
LATE = datetime(2099, 1, 1, tzinfo=UTC)


def _groups(keys: list[tuple[str, str, str]], ids: list[str]) -> set[frozenset[tuple[str, ...]]]:
    by: dict[str, set[tuple[str, ...]]] = {}
    for key, vid in zip(keys, ids, strict=True):
        by.setdefault(vid, set()).add(key)
    return {frozenset(v) for v in by.values()}


@pytest.mark.skipif(not DATA.is_dir(), reason="../shared/data not present")
def test_tracklets_without_embeddings_are_ingested_and_stitched_in_the_database(
    database_url: str, bootstrap_servers: str
) -> None:
    site = load_site(REPO / "configs" / "sites" / "pets_plaza.yaml")
    config = load_edge_config(REPO / "configs" / "edge" / "default.yaml")
    messages: list[Message] = []
    for camera, view in zip(site.cameras, ("View_001", "View_005"), strict=True):
        replay(
            str(DATA / "det" / f"{view}.txt"), camera.id, config, camera=camera, start_time=T0,
            max_frames=150, identity=Identity(site.site.id, "node-a", new_run_id()),
            progress=False, on_result=[lambda r: messages.extend(r.messages)],
        )  # fmt: skip
    ends = [m for m in messages if isinstance(m, TrackletEnded)]
    assert ends and all(m.embedding is None for m in ends)

    ns = f"multicam-{uuid.uuid4().hex[:8]}"
    ensure_topics(bootstrap_servers, partitions=2, namespace=ns)
    publish(bootstrap_servers, ns, [messages])
    ingest(database_url, bootstrap_servers, site, ns)
    settings = StitchSettings(mode="combined")
    with psycopg.connect(database_url) as conn:
        migrate(conn)
        first = stitch_pass(conn, site, settings, now=LATE, since=EARLY)
        conn.commit()
        again = stitch_pass(conn, site, settings, now=LATE, since=EARLY)  # nothing new
        conn.commit()
        stored = load_tracklets(conn, site, EARLY, LATE)
        decided = load_decided(conn, site.id, "combined", stored)
        aliases = conn.execute(
            "SELECT visitor_id, merged_into FROM visitor_alias WHERE site_id = %s", (site.id,)
        ).fetchall()
    assert len(stored) == len(ends) and not stored.has_embedding.any()
    assert all(decided)  # every tracklet without appearance has its visitor
    assert len(set(decided)) < len(stored)  # and the overlapping views were joined

    # later evidence merged visitors decided apart: recorded once, each pointing at a visitor
    # that stands (no chains), and the second pass neither decided nor merged anything
    assert first.merged == len(aliases) > 0 and (again.decided, again.merged) == (0, 0)
    assert not {into for _, into in aliases} & {vid for vid, _ in aliases}
    assert {into for _, into in aliases} <= set(decided)

    in_process = from_messages(site, messages)
    ids = stitch(in_process, CameraTopology.of(site), settings, seed=0)
    db_keys = [(k[0], k[1], k[2]) for k in stored.keys]
    mem_keys = [(k[0], k[1], k[2]) for k in in_process.keys]
    assert _groups(db_keys, decided) == _groups(mem_keys, ids)
