"""The mall simulator: deterministic per seed, contract-valid messages, truth that matches them."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from footfall.cli import main
from footfall.contract import (
    CameraHeartbeat,
    FrameObservations,
    TrackletEnded,
    TrackletStarted,
    decode,
    encode,
)
from footfall.simulate import Simulation, scenario, with_overrides
from footfall.simulate.people import arrival_intensity
from footfall.simulate.world import World
from footfall.site import ZoneKind, load_site

SMOKE = scenario("smoke")
SITE = load_site(SMOKE.site)


@pytest.fixture(scope="module")
def smoke() -> tuple[Simulation, list[object]]:
    sim = Simulation(SITE, SMOKE, seed=7)
    return sim, list(sim.messages())


def test_same_seed_same_run_other_seed_other_run() -> None:
    short = with_overrides(SMOKE, duration_s=120.0)
    a = [encode(m) for m in Simulation(SITE, short, seed=3).messages()]
    b = [encode(m) for m in Simulation(SITE, short, seed=3).messages()]
    c = [encode(m) for m in Simulation(SITE, short, seed=4).messages()]
    assert a == b
    assert a != c


def test_every_message_is_a_valid_contract_message(smoke) -> None:  # type: ignore[no-untyped-def]
    sim, messages = smoke
    kinds = Counter(type(m).__name__ for m in messages)
    assert set(kinds) == {
        "FrameObservations",
        "TrackletStarted",
        "TrackletEnded",
        "CameraHeartbeat",
    }
    for m in messages:
        assert decode(encode(m)) == m
    frames = [m for m in messages if isinstance(m, FrameObservations)]
    per_camera = Counter(f.camera_id for f in frames)
    assert set(per_camera) == {c.id for c in SITE.cameras}
    assert set(per_camera.values()) == {int(SMOKE.duration_s * SMOKE.fps)}
    # one clock per camera: frames of a camera are in order, skewed by less than the limit
    for camera in per_camera:
        times = [f.captured_at for f in frames if f.camera_id == camera]
        assert times == sorted(times)
        skew = (times[0] - sim.t0).total_seconds()
        assert abs(skew) <= SMOKE.errors.clock_skew_s
    assert kinds["CameraHeartbeat"] > 0 and all(
        m.status == "ok" for m in messages if isinstance(m, CameraHeartbeat)
    )


def test_ground_truth_matches_the_messages(smoke) -> None:  # type: ignore[no-untyped-def]
    sim, messages = smoke
    observed: Counter[tuple[str, str]] = Counter()
    for m in messages:
        if isinstance(m, FrameObservations):
            for t in m.tracks:
                observed[(m.camera_id, t.track_id)] += 1
    ends = {
        (m.camera_id, m.run_id, m.track_id): m for m in messages if isinstance(m, TrackletEnded)
    }
    starts = {
        (m.camera_id, m.run_id, m.track_id) for m in messages if isinstance(m, TrackletStarted)
    }
    assert set(ends) == set(sim.truth.tracks) == starts
    for key, counts in sim.truth.tracks.items():
        assert sum(counts.values()) == observed[(key[0], key[2])] == ends[key].frame_count
    # the error types are there: ghosts (no person), identity switches (two people), breaks
    # (one person in several tracks of one camera)
    assert any(p < 0 for c in sim.truth.tracks.values() for p in c)
    people_per_track = [len([p for p in c if p >= 0]) for c in sim.truth.tracks.values()]
    assert max(people_per_track) >= 2
    tracks_per_person: Counter[int] = Counter(
        p for c in sim.truth.tracks.values() for p in c if p >= 0
    )
    assert max(tracks_per_person.values()) > len(SITE.cameras) // 4
    entrances = {ln.id for ln in SITE.lines if ln.zone and SITE.zone(ln.zone).kind == "entrance"}
    assert any(c.line_id in entrances and c.direction == 1 for c in sim.truth.crossings)
    assert all(v.dwell_s >= 5.0 for v in sim.truth.visits)


def test_embeddings_are_close_for_one_person_and_far_for_others(smoke) -> None:  # type: ignore[no-untyped-def]
    sim, messages = smoke
    ends = [m for m in messages if isinstance(m, TrackletEnded) and m.frame_count >= 10]
    owner = [
        max(sim.truth.tracks[(m.camera_id, m.run_id, m.track_id)].items(), key=lambda x: x[1])[0]
        for m in ends
    ]
    emb = np.array([m.embedding for m in ends])
    sim_matrix = emb @ emb.T
    same = np.array([[a == b for b in owner] for a in owner]) & ~np.eye(len(ends), dtype=bool)
    other = np.array([[a != b for b in owner] for a in owner])
    assert sim_matrix[same].mean() > sim_matrix[other].mean() + 0.3


def test_arrivals_follow_a_day_curve_and_routes_use_escalators() -> None:
    hours = np.array([8.0, 10.0, 13.0, 15.5, 17.5, 21.5])
    lam = arrival_intensity(hours)
    assert lam[0] == 0 and lam[-1] == 0
    assert lam[2] > lam[1] and lam[4] > lam[3]
    world = World.of(SITE)
    zones = [z.id for z in world.zones]
    route = world.route(zones.index("l0-north-entrance"), zones.index("l1-cinema"))
    assert any(d.ride for d in route)
    assert world.zones[world.route(0, zones.index("l1-cinema"))[-1].to].kind == ZoneKind.OTHER


def test_cli_writes_messages_and_truth(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["simulate", "--scenario", "smoke", "--duration-s", "60", "--out", str(tmp_path), "--json"],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["cameras"] == 14 and summary["frames"] == 14 * 120
    lines = (tmp_path / "messages.jsonl").read_bytes().splitlines()
    assert len(lines) == summary["messages"]
    assert all(decode(line) for line in lines[:50])
    for name in ("people", "tracklets", "crossings", "visits"):
        assert (tmp_path / "truth" / f"{name}.csv").read_text().count("\n") >= 1
    assert json.loads((tmp_path / "scenario.json").read_text())["seed"] == 1


def test_cli_explains_bad_input() -> None:
    result = CliRunner().invoke(main, ["simulate", "--scenario", "rush-hour"])
    assert result.exit_code == 2 and "'rush-hour' is not one of" in result.output
    result = CliRunner().invoke(main, ["simulate", "--scenario", "smoke", "--speed", "fast"])
    assert result.exit_code == 2 and "use e.g. 1 (real time), 10, or max" in result.output
    result = CliRunner().invoke(
        main, ["simulate", "--scenario", "smoke", "--site", "configs/sites/nowhere.yaml"]
    )
    assert result.exit_code == 1 and "does not exist" in result.output
    with pytest.raises(KeyError, match="did you mean 'smoke'"):
        scenario("smok")


def test_the_generated_load_site_is_current_and_valid() -> None:
    import yaml

    from footfall.simulate.scenarios import SCENARIOS
    from footfall.simulate.sitegen import generate

    path = SCENARIOS["load"].site
    assert yaml.safe_load(path.read_text()) == generate(16)  # regenerate: python -m …sitegen
    site = load_site(path)
    assert len(site.cameras) == 224 and len(World.of(site).entrances) > 16
