"""The example configs in configs/sites load, and the demo's homographies match real GT."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from footfall.site import Site, ZoneKind, load_site

SITES = Path(__file__).resolve().parents[2] / "configs" / "sites"


@pytest.fixture(scope="module")
def demo() -> Site:
    return load_site(SITES / "demo.yaml")


@pytest.fixture(scope="module")
def mall() -> Site:
    return load_site(SITES / "two_floor_mall.yaml")


def _gt(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MOT15 GT → (frame/id columns, box bottom-centres in pixels, ground X, Y in metres)."""
    rows = np.loadtxt(path, delimiter=",")
    feet = np.column_stack([rows[:, 2] + rows[:, 4] / 2, rows[:, 3] + rows[:, 5]])
    return rows[:, :2], feet, rows[:, 7:9]


def test_demo_counts(demo: Site) -> None:
    assert demo.site.id == "demo"
    assert [f.id for f in demo.floors] == ["l0"]
    assert [c.id for c in demo.cameras] == ["pets-view1", "tud-stadtmitte", "intel-entrance"]
    assert len(demo.zones) == 8
    assert len(demo.lines) == 4
    assert len(demo.topology.links) == 2
    assert {z.kind for z in demo.zones} >= {ZoneKind.ENTRANCE, ZoneKind.CORRIDOR, ZoneKind.STORE}
    assert demo.camera("pets-view1").fps == 7
    assert demo.camera("intel-entrance").resolution == (768, 432)
    assert demo.source_file == (SITES / "demo.yaml").absolute()


def test_demo_sources_resolve_to_the_shared_footage(
    demo: Site, shared_data: Callable[..., Path]
) -> None:
    shared_data()
    for camera in demo.cameras:
        path = camera.source_path
        assert path is not None and path.is_absolute()
        assert path.is_file(), f"{camera.id}: {path} does not exist"
        assert "shared/data" in path.as_posix()


def test_pets_homography_matches_ground_truth(demo: Site, shared_data: Callable[..., Path]) -> None:
    _, feet, ground = _gt(shared_data("pets2009_s2l1", "gt", "mot15_gt.txt"))
    offset = np.array([22.0, 18.0])  # stated in demo.yaml
    camera = demo.camera("pets-view1")
    # One GT row: frame 1, id 9.
    assert np.linalg.norm(camera.project_to_floor(feet[:1])[0] - (ground[0] + offset)) < 0.5
    errors = np.linalg.norm(camera.project_to_floor(feet) - (ground + offset), axis=1)
    assert np.all(np.isfinite(errors))
    assert errors.mean() < 0.1
    assert errors.max() < 0.5
    assert camera.reprojection_errors_m().mean() < 0.1


def test_tud_homography_matches_ground_truth(demo: Site, shared_data: Callable[..., Path]) -> None:
    _, feet, ground = _gt(shared_data("mot15", "TUD-Stadtmitte", "gt", "gt.txt"))
    errors = np.linalg.norm(
        demo.camera("tud-stadtmitte").project_to_floor(feet) - (ground + np.array([44.0, 4.0])),
        axis=1,
    )
    assert errors.mean() < 0.2
    assert errors.max() < 0.5


def test_pets_tracks_cross_the_plaza_lines(demo: Site, shared_data: Callable[..., Path]) -> None:
    ids, feet, _ = _gt(shared_data("pets2009_s2l1", "gt", "mot15_gt.txt"))
    floor = demo.camera("pets-view1").project_to_floor(feet)
    counts = {}
    for line in demo.lines_on("l0")[:2]:
        crossings = []
        for track in np.unique(ids[:, 1]):
            rows = np.flatnonzero(ids[:, 1] == track)
            path = floor[rows[np.argsort(ids[rows, 0])]]
            crossings += [line.crossing(tuple(a), tuple(b)) for a, b in itertools.pairwise(path)]
        counts[line.id] = (crossings.count(1), crossings.count(-1))
    assert counts["plaza-east-gate-line"][0] >= 10
    assert counts["plaza-west-exit-line"][1] >= 5


def test_demo_zones_cover_where_people_walk(demo: Site, shared_data: Callable[..., Path]) -> None:
    _, feet, _ = _gt(shared_data("pets2009_s2l1", "gt", "mot15_gt.txt"))
    floor = demo.camera("pets-view1").project_to_floor(feet)
    zones = [demo.zone(z) for z in ("plaza-east-gate", "plaza-walkway", "plaza-west-exit")]
    inside = sum(any(z.contains(x, y) for z in zones) for x, y in floor)
    assert inside / len(floor) > 0.8


def test_mall_counts_and_contents(mall: Site) -> None:
    assert [(f.id, f.level) for f in mall.floors] == [("l0", 0), ("l1", 1)]
    assert len(mall.cameras) >= 12
    assert len(mall.cameras_on("l0")) == 8  # with the service corridor's security camera
    assert len(mall.cameras_on("l1")) == 6
    kinds = {z.kind for z in mall.zones}
    for kind in ("entrance", "corridor", "store", "escalator", "food_court", "checkout"):
        assert ZoneKind(kind) in kinds
    assert ZoneKind.STAFF_ONLY in kinds
    entrances = [z.id for z in mall.zones if z.kind is ZoneKind.ENTRANCE]
    assert len(entrances) == 3
    assert {ln.zone for ln in mall.lines} >= set(entrances)
    escalators = {z.floor for z in mall.zones if z.kind is ZoneKind.ESCALATOR}
    assert escalators == {"l0", "l1"}
    assert any(link.connects("l1-escalator", "l0-escalator") for link in mall.topology.links)
    assert len(mall.topology.overlaps) >= 3
    for camera in mall.cameras:
        assert camera.is_stream
        assert camera.reprojection_errors_m().max() < 0.05


def test_mall_walk_windows_are_ordered(mall: Site) -> None:
    for link in mall.topology.links:
        assert 0 <= link.min_walk_s <= link.max_walk_s
        assert mall.camera(link.from_camera).id == link.from_camera


def test_lookups(demo: Site) -> None:
    assert demo.floor("l0").width_m == 90
    assert demo.zone("lobby-entrance").kind is ZoneKind.ENTRANCE
    assert demo.line("lobby-entrance-line").zone == "lobby-entrance"
    assert {z.id for z in demo.zones_on("l0")} == {z.id for z in demo.zones}
    assert demo.lines_on("l1") == []
    assert [link.to_camera for link in demo.links_from("tud-stadtmitte")] == [
        "tud-stadtmitte",
        "intel-entrance",
    ]
    with pytest.raises(KeyError, match="pets-view1"):
        demo.camera("pets-view2")
