"""The evaluation manifest: checked up front, one sentence per problem; the eval command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from footfall.evaluation.manifest import ManifestError, load_manifest
from footfall.evaluation.runner import build_config
from footfall.evaluation.selection import narrow

REPO = Path(__file__).resolve().parents[2]
SHARED_DATA = (REPO / ".." / "shared" / "data").resolve()
needs_data = pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=f"{SHARED_DATA} not present")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(text)
    return path


def test_missing_gt_file_is_one_sentence_naming_the_entry(tmp_path: Path) -> None:
    path = write(tmp_path, "name: m\nsequences:\n  - {name: A, gt: nowhere/gt.txt}\n")
    with pytest.raises(ManifestError) as err:
        load_manifest(path)
    message = str(err.value)
    assert "sequences[0] (A).gt" in message and "does not exist" in message
    assert "\n" not in message


def test_unknown_key_and_bad_override_are_reported(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match=r"sequencs: unknown field — did you mean 'sequences'"):
        load_manifest(write(tmp_path, "name: m\nsequencs: []\n"))
    manifest = load_manifest(
        write(tmp_path, "name: m\nconfigs:\n  - {name: c, set: {detector.imag_size: 640}}\n")
    )
    with pytest.raises(ManifestError, match=r"unknown setting 'imag_size'; valid: .*image_size"):
        build_config(manifest, manifest.configs[0])


def test_overrides_apply_to_the_config_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"name: m\nconfigs:\n  - name: c\n    file: {REPO}/configs/edge/baseline.yaml\n"
        "    set: {detector.image_size: 320, reid.backend: none}\n",
    )
    manifest = load_manifest(path)
    config = build_config(manifest, manifest.configs[0])
    assert config.detector.image_size == 320 and config.reid.backend == "none"
    assert config.tracker.new_track_thresh == 0.6  # from baseline.yaml


@needs_data
def test_every_shipped_manifest_loads_and_narrows() -> None:
    for path in sorted((REPO / "configs" / "eval").glob("*.yaml")):
        manifest = load_manifest(path)
        for entry in manifest.configs:
            build_config(manifest, entry)
    short = load_manifest(REPO / "configs" / "eval" / "short.yaml")
    only = narrow(short, only=("TUD-Campus",), max_frames=5)
    assert [s.name for s in only.sequences] == ["TUD-Campus"] and not only.crowd
    assert only.sequences[0].max_frames == 5 and only.end_to_end is None
    with pytest.raises(ManifestError, match="No sequence named 'nope'"):
        narrow(short, only=("nope",))


def test_eval_command_reports_a_missing_manifest_in_one_line(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "footfall.cli", "eval", str(tmp_path / "none.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "cannot be read" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_eval_command_names_a_missing_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from footfall import extras
    from footfall.cli import main

    monkeypatch.setitem(extras.EXTRA_MODULES, "cloud", ("surely_not_installed_module",))
    result = CliRunner().invoke(main, ["eval", "configs/eval/short.yaml"])
    assert result.exit_code == 1
    assert "`footfall eval` needs the 'cloud' extra" in result.output
