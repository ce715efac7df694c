"""``footfall deepstream config``: files DeepStream can read, coordinates that land on the site.

The golden files under ``golden/demo`` were reviewed against NVIDIA's documented samples:
``apps/deepstream-nvdsanalytics/config_nvdsanalytics.txt`` (groups ``[property]``,
``[roi-filtering-stream-N]``, ``[overcrowding-stream-N]``, ``[line-crossing-stream-N]`` and
their keys, ``line-crossing-<label>=`` 4 points: the direction's two, then the line's two) and
``apps/deepstream-test4/dstest4_msgconv_config.txt`` (``[sensorN]``, ``[placeN]``,
``[analyticsN]``) of NVIDIA-AI-IOT/deepstream_python_apps, and the deepstream-app sink group
(type 6, ``msg-conv-*``, ``msg-broker-*``) of DeepStream's reference-application guide. The
documented keys are written out in ``DOCUMENTED`` below and checked on every generated file.
"""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import pytest
import shapely
from click.testing import CliRunner

from footfall.cli import main
from footfall.deepstream.config import CONFIG_HEIGHT, CONFIG_WIDTH, FILES, from_config_space
from footfall.deepstream.geometry import CameraView
from footfall.site import load_site

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "configs" / "sites" / "demo.yaml"
GOLDEN = Path(__file__).resolve().parent / "golden" / "demo"
CAMERAS = ("pets-view1", "tud-stadtmitte", "intel-entrance")
TOLERANCE_M = 0.05

DOCUMENTED: dict[str, set[str]] = {
    # group pattern -> keys (a trailing * is a prefix followed by a label)
    r"property": {"enable", "config-width", "config-height", "osd-mode", "display-font-size"},
    r"roi-filtering-stream-\d+": {"enable", "roi-*", "inverse-roi", "class-id"},
    r"overcrowding-stream-\d+": {"enable", "roi-*", "object-threshold", "class-id"},
    r"line-crossing-stream-\d+": {"enable", "line-crossing-*", "class-id", "extended", "mode"},
    r"sensor\d+": {"enable", "type", "id", "location", "description", "coordinate"},
    r"place\d+": {
        "enable",
        "id",
        "type",
        "name",
        "location",
        "coordinate",
        "place-sub-field1",
        "place-sub-field2",
        "place-sub-field3",
    },
    r"analytics\d+": {"enable", "id", "description", "source", "version"},
    r"message-broker": {"partition-key"},
}


def keyfile(path: Path) -> configparser.ConfigParser:
    """Parse a GLib key file (DeepStream's format) strictly: no duplicate groups or keys."""
    parser = configparser.ConfigParser(
        interpolation=None, strict=True, delimiters=("=",), comment_prefixes=("#",)
    )
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ds")
    args = ["deepstream", "config", "--site", str(DEMO), "--out", str(out)]
    args += [a for c in CAMERAS for a in ("--camera", c)]
    result = CliRunner().invoke(main, [*args, "--kafka", "broker.example:9092"])
    assert result.exit_code == 0, result.output
    assert "stream 0: camera pets-view1: lines plaza-east-gate-line" in result.output
    return out


def points(value: str) -> list[tuple[float, float]]:
    numbers = [int(v) for v in value.split(";")]
    assert len(numbers) % 2 == 0
    return list(zip(numbers[::2], numbers[1::2], strict=True))


def test_files_parse_back_with_only_documented_groups_and_keys(written: Path) -> None:
    for name in ("nvdsanalytics.txt", "msgconv.txt", "cfg_kafka.txt"):
        parsed = keyfile(written / name)
        assert parsed.sections()
        for group in parsed.sections():
            allowed = next(v for k, v in DOCUMENTED.items() if re.fullmatch(k, group))
            for key in parsed[group]:
                assert key in allowed or any(
                    a.endswith("*") and key.startswith(a[:-1]) for a in allowed
                ), (name, group, key)
    analytics = keyfile(written / "nvdsanalytics.txt")
    assert analytics["property"]["config-width"] == str(CONFIG_WIDTH)
    for group in analytics.sections():
        for key, value in analytics[group].items():
            if key.startswith("line-crossing-"):
                assert len(points(value)) == 4
            elif key.startswith("roi-"):
                assert len(points(value)) >= 3
    app = keyfile(written / "deepstream_app.txt")
    sink = app["sink0"]
    assert sink["type"] == "6" and sink["msg-conv-payload-type"] == "1"
    assert sink["msg-broker-conn-str"] == "broker.example;9092;footfall.deepstream.v1"
    assert app["nvds-analytics"]["config-file"] == "nvdsanalytics.txt"
    assert [app[f"source{i}"]["enable"] for i in range(3)] == ["1", "1", "1"]
    sensors = keyfile(written / "msgconv.txt")
    assert [sensors[f"sensor{i}"]["id"] for i in range(3)] == list(CAMERAS)


def test_coordinates_projected_back_land_on_the_sites_lines_and_zones(written: Path) -> None:
    """Every line and ROI point, mapped back through the homography, is within 0.05 m of the
    site's line or zone; every zone corner and line end the camera sees is reproduced."""
    site = load_site(DEMO)
    analytics = keyfile(written / "nvdsanalytics.txt")
    checked = 0
    for index, camera_id in enumerate(CAMERAS):
        view = CameraView(site.camera(camera_id))

        def to_floor(p: tuple[float, float], view: CameraView = view) -> tuple[float, float]:
            x, y = view.to_floor([from_config_space(p, view.size)])[0]
            return float(x), float(y)

        for key, value in analytics[f"line-crossing-stream-{index}"].items():
            if not key.startswith("line-crossing-"):
                continue
            line = site.line(re.sub(r"^line-crossing-|-(in|out)$", "", key))
            from_, to, a, b = (to_floor(p) for p in points(value))
            segment = shapely.LineString([line.a, line.b])
            for p in (a, b):
                assert segment.distance(shapely.Point(p)) <= TOLERANCE_M, (key, p)
            for end in (line.a, line.b):  # a line end in view is an end of the written segment
                if shapely.contains_xy(view.visible_floor.buffer(-0.01), *end):
                    assert min(shapely.Point(end).distance(shapely.Point(q)) for q in (a, b)) <= (
                        TOLERANCE_M
                    )
            # The arrow crosses the line; -in ends on the in side, -out on the other.
            side_to, side_from = line.side_of(*to), line.side_of(*from_)
            assert side_to is not None and side_from is not None and side_to != side_from
            assert (side_to == line.in_side) == key.endswith("-in"), key
            checked += 1
        for key, value in analytics[f"overcrowding-stream-{index}"].items():
            if not key.startswith("roi-"):
                continue
            zone = site.zone(re.sub(r"^roi-|-\d+$", "", key))
            shape = zone.shape()
            floor = [to_floor(p) for p in points(value)]
            for p in floor:
                assert shape.distance(shapely.Point(p)) <= TOLERANCE_M, (key, p)
            written_ring = shapely.LinearRing(floor)
            for corner in zone.polygon:
                if shapely.contains_xy(view.visible_floor.buffer(-0.01), *corner):
                    assert shapely.Point(corner).distance(written_ring) <= TOLERANCE_M, (
                        key,
                        corner,
                    )
            assert analytics[f"roi-filtering-stream-{index}"][key] == value
            checked += 1
    assert checked >= 10


def test_golden_files(written: Path) -> None:
    """The files for the demo site equal the reviewed golden copies (source paths, which
    depend on where the checkout is, start with <checkout-parent>)."""
    root = REPO.parent.as_uri()
    for name in FILES:
        text = (
            (written / name).read_text(encoding="utf-8").replace(root, "file://<checkout-parent>")
        )
        golden = (GOLDEN / name).read_text(encoding="utf-8")
        assert text == golden, f"{name} differs from {GOLDEN / name}; review and update it"


def test_mistakes_are_one_sentence(tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["deepstream", "config", "--site", str(DEMO), "--out", str(tmp_path)]
    result = runner.invoke(main, [*base, "--camera", "pets-view"])
    assert result.exit_code == 1
    assert "has no camera with id 'pets-view'; did you mean 'pets-view1'?" in result.output
    result = runner.invoke(main, [*base, "--camera", "pets-view1", "--kafka", "nohost"])
    assert result.exit_code == 1 and "is not HOST:PORT" in result.output
    result = runner.invoke(main, [*base, "--camera", "pets-view1", "--mux-size", "big"])
    assert result.exit_code == 2 and "WIDTHxHEIGHT" in result.output
    assert "Traceback" not in result.output


def test_config_space_keeps_a_tenth_of_a_pixel() -> None:
    assert CONFIG_WIDTH / 768 >= 10 - 1e-9 and CONFIG_HEIGHT / 576 >= 7.5
