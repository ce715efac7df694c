"""validate-config: every problem with file:line:col and a fix, never a traceback."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from footfall.site.cli import validate_config

REPO = Path(__file__).resolve().parents[2]
BROKEN = Path("configs/sites/broken")
LOCATED = re.compile(r"^(?P<file>[^:\s]+):(?P<line>\d+):(?P<col>\d+): ", re.MULTILINE)


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # so that file names in the output are the relative ones given


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(validate_config, [str(a) for a in args])


def problem_lines(output: str) -> list[str]:
    return [ln for ln in output.splitlines() if ln and not ln.startswith((" ", "\t"))][:-1]


def test_examples_are_valid() -> None:
    result = run("configs/sites/demo.yaml", "configs/sites/two_floor_mall.yaml")
    assert result.exit_code == 0, result.output
    assert "site 'demo'" in result.output
    assert "1 floor, 3 cameras, 8 zones, 4 lines, 2 links" in result.output
    assert "2 floors, 14 cameras" in result.output
    assert (
        "    counting: line_hysteresis_m=0.3, line_establish_s=0.5, min_visit_s=5, visit_gap_s=2, "
        "min_visitor_s=12, heatmap_cell_m=0.5 (defaults)" in result.output
    )


def test_typo_points_at_the_key_and_suggests_the_field() -> None:
    result = run(BROKEN / "typo_key.yaml")
    assert result.exit_code == 1
    assert (
        "configs/sites/broken/typo_key.yaml:29:5: cameras[1].fsp: unknown field 'fsp' "
        "— did you mean 'fps'?" in result.output
    )
    assert "fix: rename 'fsp' to 'fps'" in result.output
    assert result.output.rstrip().endswith("1 problem in configs/sites/broken/typo_key.yaml")
    assert "Traceback" not in result.output


def test_bow_tie_names_the_zone_and_the_line() -> None:
    result = run(BROKEN / "bowtie_zone.yaml")
    assert result.exit_code == 1
    line = problem_lines(result.output)
    assert line == [
        "configs/sites/broken/bowtie_zone.yaml:25:7: zones[1].polygon: zone 'food-court' polygon "
        "is not valid: self-intersection at (6.0, 11.0)"
    ]


def test_unknown_camera_lists_valid_ids() -> None:
    result = run(BROKEN / "unknown_camera.yaml")
    assert result.exit_code == 1
    assert (
        "unknown_camera.yaml:40:14: topology.links[0].from: unknown camera 'cam-entrence' "
        "— did you mean 'cam-entrance'?" in result.output
    )
    assert "cam-corridor, cam-entrance" in result.output


def test_yaml_syntax_error_is_one_located_line(write_yaml: Callable[..., Path]) -> None:
    path = write_yaml("site:\n  id: x\n  name: [unclosed\nfloors: []\n")
    result = run(path)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = problem_lines(result.output)
    assert len(lines) == 1
    assert re.match(rf"^{re.escape(str(path))}:\d+:\d+: YAML syntax error: ", lines[0])


def test_missing_file_is_one_sentence() -> None:
    result = run("configs/sites/does-not-exist.yaml")
    assert result.exit_code == 1
    assert problem_lines(result.output) == ["configs/sites/does-not-exist.yaml: file not found"]
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "file is empty"),
        ("# only a comment\n", "file is empty"),
        ("- a\n- b\n", "the top level must be a mapping of sections (got a list of 2 items)"),
        ("just text\n", "the top level must be a mapping of sections (got 'just text')"),
    ],
)
def test_unusable_documents(write_yaml: Callable[..., Path], text: str, expected: str) -> None:
    result = run(write_yaml(text))
    assert result.exit_code == 1
    lines = problem_lines(result.output)
    assert len(lines) == 1 and lines[0].endswith(expected)


def test_missing_field_points_at_the_parent_mapping(
    write_yaml: Callable[..., Path], minimal: str
) -> None:
    path = write_yaml(minimal.replace("    fps: 25\n", ""))
    result = run(path)
    assert result.exit_code == 1
    assert f"{path}:12:5: cameras[0]: missing required field 'fps'" in result.output
    assert "fix: add 'fps:' — Frame rate of the source, frames per second." in result.output


def test_all_problems_in_one_run(write_yaml: Callable[..., Path], minimal: str) -> None:
    text = (
        minimal.replace("fps: 25", "fps: -5")
        .replace("id: tiny", "id: Tiny Site")
        .replace("timezone: Europe/London", "timezone: Europe/Londn")
        + """\
  - id: cam-a
    floor: l0
    source: rtsp://192.0.2.1/live
    fps: "25"
    resolution: [1280, 720]
    homography:
      points:
        - {image: [100, 700], floor: [2, 12]}
        - {image: [1180, 700], floor: [8, 12]}
        - {image: [1000, 300], floor: [8, 4]}
        - {image: [280, 300], floor: [2, 4]}
zones:
  - {id: hall, name: Hall, floor: l0, kind: hallway, polygon: [[0, 0], [4, 0], [4, 4]]}
  - {id: shop, name: Shop, floor: l9, kind: store, polygon: [[0, 0], [4, 0], [4, 4]]}
"""
    )
    path = write_yaml(text)
    result = run(path)
    assert result.exit_code == 1
    out = result.output
    name = re.escape(str(path))
    expected = [
        rf"{name}:2:7: site\.id: must be an id of lowercase letters.*\(got 'Tiny Site'\)",
        rf"{name}:4:13: site\.timezone: unknown time zone 'Europe/Londn' — did you mean "
        r"'Europe/London'",
        rf"{name}:15:10: cameras\[0\]\.fps: must be > 0 \(got -5\)",
        rf"{name}:26:10: cameras\[1\]\.fps: must be a number \(got '25'\)",
        rf"{name}:23:9: cameras\[1\]\.id: duplicate id 'cam-a' \(already used by cameras\[0\]\)",
        rf"{name}:35:45: zones\[0\]\.kind: must be one of: entrance, store, corridor, .*, other "
        r"\(got 'hallway'\)",
        rf"{name}:36:35: zones\[1\]\.floor: unknown floor 'l9'",
    ]
    for pattern in expected:
        assert re.search(pattern, out), f"{pattern!r} not in\n{out}"
    assert out.rstrip().endswith(f"7 problems in {path}")
    lines = problem_lines(out)
    assert all(LOCATED.match(ln) for ln in lines)
    numbers = [int(LOCATED.match(ln)["line"]) for ln in lines]  # type: ignore[index]
    assert numbers == sorted(numbers)


def test_every_problem_has_a_fix_hint(write_yaml: Callable[..., Path], minimal: str) -> None:
    result = run(write_yaml(minimal.replace("fps: 25", "fps: 0").replace("[1280, 720]", "[1]")))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    for i, line in enumerate(lines[:-1]):
        if LOCATED.match(line):
            assert lines[i + 1].startswith("    fix: "), line


def test_several_files_exit_1_if_any_is_broken() -> None:
    result = run("configs/sites/demo.yaml", BROKEN / "typo_key.yaml")
    assert result.exit_code == 1
    assert "configs/sites/demo.yaml: OK" in result.output
    assert "1 problem in configs/sites/broken/typo_key.yaml" in result.output


def test_needs_a_file() -> None:
    result = run()
    assert result.exit_code == 2
    assert "Missing argument" in result.output


def test_module_entry_point_runs_without_traceback() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "footfall.site", "configs/sites/broken/typo_key.yaml", "nope.yaml"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "typo_key.yaml:29:5: cameras[1].fsp: unknown field 'fsp'" in proc.stdout
    assert "nope.yaml: file not found" in proc.stdout
    ok = subprocess.run(
        [sys.executable, "-m", "footfall.site", "configs/sites/demo.yaml"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr


def test_missing_footage_is_noted_but_valid(write_yaml: Callable[..., Path], minimal: str) -> None:
    path = write_yaml(minimal)
    result = run(path)
    assert result.exit_code == 0, result.output
    assert "note: camera 'cam-a': its footage" in result.output
    assert "cam-a.mp4 is not on this machine" in result.output
    (path.parent / "videos").mkdir()
    (path.parent / "videos" / "cam-a.mp4").write_bytes(b"")
    assert "note:" not in run(path).output


def test_stream_sources_are_not_looked_for() -> None:
    assert "note:" not in run("configs/sites/two_floor_mall.yaml").output
