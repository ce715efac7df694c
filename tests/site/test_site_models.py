"""Model rules: strict scalars, YAML lists for pairs, paths, zones, lines, topology, YAML layer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from footfall.site import (
    CountingLine,
    Distortion,
    Floor,
    Link,
    Side,
    Site,
    SiteConfigError,
    SiteInfo,
    Zone,
    check_site,
    load_site,
)
from footfall.site.errors import format_path
from footfall.site.verify import SiteParts, verify_links, verify_unique_ids


def errors(model: Any, data: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as info:
        model.model_validate(data)
    return [f"{format_path(tuple(e['loc']))}: {e['msg']}" for e in info.value.errors()]


FLOOR = {"id": "l0", "name": "Ground", "level": 0, "width_m": 30, "depth_m": 20}


def test_no_silent_coercion_but_lists_and_ints_are_fine() -> None:
    assert Floor.model_validate({**FLOOR, "width_m": 30}).width_m == 30.0
    for bad in ("30", True, None, float("inf"), float("nan")):
        assert errors(Floor, {**FLOOR, "width_m": bad})
    assert errors(Floor, {**FLOOR, "level": 1.5})
    assert errors(Floor, {**FLOOR, "level": "1"})
    assert errors(Floor, {**FLOOR, "name": 5})
    zone = Zone.model_validate(
        {
            "id": "z",
            "name": "Z",
            "floor": "l0",
            "kind": "store",
            "polygon": [[0, 0], [4, 0], [4, 3]],
        }
    )
    assert zone.polygon[1] == (4.0, 0.0)
    assert zone.shape().area == pytest.approx(6.0)


@pytest.mark.parametrize("ident", ["Cam1", "-cam", "cam 1", "", "a" * 64, "café"])
def test_ids_must_be_slugs(ident: str) -> None:
    assert errors(Floor, {**FLOOR, "id": ident})


def test_ids_that_are_slugs() -> None:
    for ident in ("l0", "0", "cam_1-north", "a" * 63):
        assert Floor.model_validate({**FLOOR, "id": ident}).id == ident


def test_timezone_must_be_iana() -> None:
    assert SiteInfo(id="s", name="S", timezone="America/New_York").timezone == "America/New_York"
    (message,) = errors(SiteInfo, {"id": "s", "name": "S", "timezone": "Mars/Olympus"})
    assert "unknown time zone 'Mars/Olympus'" in message


def test_relative_paths_resolve_against_the_yaml_folder(
    write_yaml: Callable[..., Path], minimal: str, tmp_path: Path
) -> None:
    site = load_site(write_yaml(minimal))
    assert site.camera("cam-a").source == str(tmp_path / "videos" / "cam-a.mp4")
    assert site.camera("cam-a").source_path == tmp_path / "videos" / "cam-a.mp4"
    assert not site.camera("cam-a").is_stream


@pytest.mark.parametrize(
    "source", ["rtsp://user:pw@10.0.0.5:554/stream1", "http://cam/video.mjpg", "https://x/y.m3u8"]
)
def test_stream_sources_are_kept(
    write_yaml: Callable[..., Path], minimal: str, source: str
) -> None:
    site = load_site(write_yaml(minimal.replace("videos/cam-a.mp4", source)))
    assert site.camera("cam-a").source == source
    assert site.camera("cam-a").is_stream and site.camera("cam-a").source_path is None


def test_unsupported_scheme(write_yaml: Callable[..., Path], minimal: str) -> None:
    _, problems = check_site(write_yaml(minimal.replace("videos/cam-a.mp4", "ftp://x/y.mp4")))
    assert [(p.line, p.path) for p in problems] == [(14, "cameras[0].source")]
    assert "unsupported source scheme 'ftp://'" in problems[0].message


def test_floor_plan_image_must_exist(
    write_yaml: Callable[..., Path], minimal: str, tmp_path: Path
) -> None:
    plan = "    plan: {image: plans/l0.png, pixels_per_metre: 20, origin_px: [10, 5]}\n"
    text = minimal.replace("    depth_m: 20\n", "    depth_m: 20\n" + plan)
    _, problems = check_site(write_yaml(text))
    assert len(problems) == 1
    assert problems[0].path == "floors[0].plan.image"
    assert problems[0].line == 11
    assert f"floor-plan image not found: {tmp_path / 'plans' / 'l0.png'}" in problems[0].message
    (tmp_path / "plans").mkdir()
    (tmp_path / "plans" / "l0.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    site = load_site(tmp_path / "site.yaml")
    plan_model = site.floor("l0").plan
    assert plan_model is not None
    assert plan_model.image == str(tmp_path / "plans" / "l0.png")
    assert plan_model.to_pixels(1.0, 2.0) == (30.0, 45.0)


def test_distortion_coefficients() -> None:
    k = [[800, 0, 640], [0, 800, 360], [0, 0, 1]]
    assert Distortion.model_validate(
        {"model": "fisheye", "camera_matrix": k, "coefficients": [0.1] * 4}
    )
    for n in (4, 5, 8):
        Distortion.model_validate({"model": "pinhole", "camera_matrix": k, "coefficients": [0] * n})
    (message,) = errors(
        Distortion, {"model": "fisheye", "camera_matrix": k, "coefficients": [0] * 5}
    )
    assert "fisheye distortion needs 4 coefficients (got 5)" in message
    assert errors(Distortion, {"model": "pinhole", "camera_matrix": k, "coefficients": [0] * 6})
    assert errors(
        Distortion, {"model": "pinhole", "camera_matrix": [[1, 2]], "coefficients": [0] * 4}
    )
    bad_k = [[800, 0, 640], [0, 800, 360], [0, 1, 1]]
    assert errors(Distortion, {"model": "pinhole", "camera_matrix": bad_k, "coefficients": [0] * 4})


def zone(polygon: list[list[float]], zid: str = "z") -> dict[str, Any]:
    return {"id": zid, "name": "Z", "floor": "l0", "kind": "store", "polygon": polygon}


def test_bow_tie_and_flat_polygons() -> None:
    (message,) = errors(Zone, zone([[0, 0], [4, 0], [0, 4], [4, 4]], "bow"))
    assert "zone 'bow' polygon is not valid: self-intersection at (2.0, 2.0)" in message
    (message,) = errors(Zone, zone([[0, 0], [1, 1], [2, 2]]))
    assert "polygon" in message
    assert errors(Zone, zone([[0, 0], [4, 0]]))
    assert errors(Zone, {**zone([[0, 0], [4, 0], [4, 4]]), "kind": "shop"})


def test_counting_line_sides_and_crossings() -> None:
    # Walking a → b along +x on a plan drawn with y down: smaller y is on the left.
    line = CountingLine(id="door", floor="l0", a=(0, 5), b=(10, 5), in_side=Side.RIGHT)
    assert line.length_m == 10
    assert line.side_of(5, 2) is Side.LEFT
    assert line.side_of(5, 8) is Side.RIGHT
    assert line.side_of(20, 5) is None
    assert line.crossing((5, 2), (5, 8)) == 1  # into the right side: in
    assert line.crossing((5, 8), (5, 2)) == -1
    assert line.crossing((15, 2), (15, 8)) == 0  # passes beside the segment
    assert line.crossing((5, 2), (6, 3)) == 0
    with pytest.raises(ValidationError, match="too short"):
        CountingLine(id="dot", floor="l0", a=(1, 1), b=(1, 1), in_side=Side.LEFT)


def test_link_window_and_aliases() -> None:
    link = Link.model_validate({"from": "a", "to": "b", "min_walk_s": 2, "max_walk_s": 30})
    assert (link.from_camera, link.to_camera, link.bidirectional) == ("a", "b", True)
    assert link.connects("b", "a")
    one_way = Link.model_validate(
        {"from": "a", "to": "b", "min_walk_s": 2, "max_walk_s": 30, "bidirectional": False}
    )
    assert not one_way.connects("b", "a")
    (message,) = errors(Link, {"from": "a", "to": "b", "min_walk_s": 40, "max_walk_s": 30})
    assert "min_walk_s (40 s) is greater than max_walk_s (30 s)" in message
    assert errors(Link, {"from": "a", "to": "b", "min_walk_s": -1, "max_walk_s": 30})
    assert errors(Link, {"from": "a", "to": "b", "min_walk_s": 1, "max_walk_s": "30"})


def test_site_model_validate_runs_the_cross_checks(minimal: str) -> None:
    data = yaml.safe_load(minimal)
    assert Site.model_validate(data).camera("cam-a").floor == "l0"
    data["cameras"][0]["floor"] = "l1"
    with pytest.raises(ValidationError, match=r"cameras\[0\]\.floor: unknown floor 'l1'"):
        Site.model_validate(data)


def test_reference_and_geometry_checks(write_yaml: Callable[..., Path], minimal: str) -> None:
    text = minimal + (
        "zones:\n"
        "  - {id: hall, name: Hall, floor: l0, kind: corridor, polygon: [[0,0], [40,0], [4,4]]}\n"
        "  - {id: hall, name: Hall 2, floor: l0, kind: corridor, polygon: [[0,0], [4,0], [4,4]]}\n"
        "lines:\n"
        "  - {id: door, floor: l0, a: [1, 1], b: [2, 1], in_side: left, zone: hal}\n"
        "  - {id: far, floor: l0, a: [1, 1], b: [2, 1], in_side: left, zone: remote}\n"
        "  - {id: out, floor: l0, a: [1, 1], b: [31, 1], in_side: left}\n"
        "topology:\n"
        "  links:\n"
        "    - {from: cam-a, to: cam-a, min_walk_s: 1, max_walk_s: 2}\n"
        "  overlaps:\n"
        "    - cameras: [cam-a, cam-b]\n"
    )
    _, problems = check_site(write_yaml(text))
    got = {(p.line, p.path): p.message for p in problems}
    assert "zone 'hall' point (40, 0) is outside floor 'l0'" in got[(24, "zones[0].polygon[1]")]
    assert got[(25, "zones[1].id")] == "duplicate id 'hall' (already used by zones[0])"
    assert got[(27, "lines[0].zone")] == "unknown zone 'hal' — did you mean 'hall'?"
    assert got[(28, "lines[1].zone")].startswith("unknown zone 'remote'")
    assert "end b (31, 1) is outside floor 'l0'" in got[(29, "lines[2].b")]
    assert got[(32, "topology.links[0].to")] == "link from camera 'cam-a' to itself"
    assert "unknown camera 'cam-b'" in got[(34, "topology.overlaps[0].cameras[1]")]
    assert len(problems) == 7


def test_cross_checks_still_run_when_schema_errors_exist(
    write_yaml: Callable[..., Path], minimal: str
) -> None:
    text = minimal.replace("fps: 25", "fps: fast") + (
        "topology:\n  links:\n    - {from: cam-a, to: cam-z, min_walk_s: 1, max_walk_s: 2}\n"
    )
    _, problems = check_site(write_yaml(text))
    paths = [p.path for p in problems]
    # cam-a is broken but exists, so only cam-z is an unknown reference.
    assert paths == ["cameras[0].fps", "topology.links[0].to"]


def test_duplicate_yaml_keys(write_yaml: Callable[..., Path], minimal: str) -> None:
    _, problems = check_site(
        write_yaml(minimal.replace("    fps: 25\n", "    fps: 25\n    fps: 30\n"))
    )
    assert [(p.line, p.column, p.path) for p in problems] == [(16, 5, "cameras[0].fps")]
    assert "duplicate key 'fps' (first given at line 15)" in problems[0].message


def test_load_site_raises_with_every_problem(write_yaml: Callable[..., Path], minimal: str) -> None:
    path = write_yaml(minimal.replace("fps: 25", "fps: 0").replace("level: 0", "level: -99"))
    with pytest.raises(SiteConfigError) as info:
        load_site(path)
    problems = info.value.problems
    assert [(p.file, p.line, p.column, p.path) for p in problems] == [
        (str(path), 8, 12, "floors[0].level"),
        (str(path), 15, 10, "cameras[0].fps"),
    ]
    assert problems[1].message == "must be > 0 (got 0)"
    assert str(info.value).endswith(f"2 problems in {path}")
    assert problems[1].format().startswith(f"{path}:15:10: cameras[0].fps: must be > 0 (got 0)\n")


def test_dump_round_trips_with_yaml_key_names(minimal: str) -> None:
    site = Site.model_validate(yaml.safe_load(minimal))
    dumped = site.model_dump(mode="json")
    assert "homography" in dumped["cameras"][0]
    assert Site.model_validate(dumped) == site
    again = Site.model_validate(yaml.safe_load(yaml.safe_dump(dumped)))
    assert again.camera("cam-a").homography() == pytest.approx(site.camera("cam-a").homography())


def test_messages_for_common_yaml_slips(write_yaml: Callable[..., Path], minimal: str) -> None:
    text = minimal.replace("cameras:", "camras:").replace("width_m: 30", "width_m: 3e1")
    _, problems = check_site(write_yaml(text))
    got = {p.path: (p.line, p.message, p.fix) for p in problems}
    assert got["camras"][:2] == (11, "unknown field 'camras' — did you mean 'cameras'?")
    assert got["floors[0].width_m"][1] == "must be a number (got '3e1')"
    assert "decimal point" in got["floors[0].width_m"][2]
    _, problems = check_site(write_yaml("site: {id: s, name: S, timezone: UTC}\nfloors:\n"))
    assert [(p.path, p.message) for p in problems] == [
        ("floors", "must be a list (got nothing (null))")
    ]
    assert problems[0].fix == "write 'floors: []' for none, or list '- ' entries under it"


def test_verify_functions_work_on_parts() -> None:
    floor = Floor.model_validate(FLOOR)
    links = [
        Link.model_validate({"from": "a", "to": "b", "min_walk_s": 1, "max_walk_s": 5}),
        Link.model_validate({"from": "b", "to": "a", "min_walk_s": 1, "max_walk_s": 5}),
    ]
    parts = SiteParts.of([floor], [], [], [], links)
    parts.ids["cameras"] = {0: "a", 1: "b"}
    (problem,) = verify_links(parts)
    assert problem.path == "topology.links[1]"
    assert problem.message.startswith("duplicate link b → a")
    assert verify_unique_ids(parts) == []
