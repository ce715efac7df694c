"""The short evaluation of `make test`: `footfall eval configs/eval/short.yaml` on TUD-Campus and
a few Mall frames, through the real edge pipeline on the real footage (about 40 s on 2 cores).

The floors are far below what the pipeline measures (report in reports/eval/short) and far above
what a broken detector, tracker or metric gives.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CAMPUS = (REPO / ".." / "shared" / "data" / "mot15" / "TUD-Campus").resolve()
MALL = (REPO / ".." / "shared" / "data" / "mall_dataset").resolve()


@pytest.mark.skipif(not (CAMPUS.is_dir() and MALL.is_dir()), reason="../shared/data not present")
def test_short_eval_writes_a_report_with_sane_figures(tmp_path: Path) -> None:
    out = tmp_path / "report"
    done = subprocess.run(
        [sys.executable, "-m", "footfall.cli", "eval", "configs/eval/short.yaml",
         "--sequence", "TUD-Campus", "--sequence", "mall", "--no-end-to-end",
         "--out", str(out), "--work-dir", str(tmp_path / "work")],
        cwd=REPO, capture_output=True, text=True, check=False, timeout=400,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    for name in ("report.md", "report.html", "metrics.json", "plots/tracking.png"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    (run,) = metrics["runs"]
    t = run["tracking"]
    assert run["sequence"] == "TUD-Campus" and run["frames"] == 71 and run["fps"] > 0
    assert t["hota"] > 0.35 and t["idf1"] > 0.45 and t["mota"] > 0.45
    assert t["precision"] > 0.75 and t["recall"] > 0.6
    assert t["id_switches"] <= 20  # 6 on this clip; a tracker that keeps losing people has dozens
    (counting,) = run["counting"]
    (line,) = counting["lines"]
    # From the ground truth alone: 5 steps across the line, 2 of them within line_establish_s
    # (0.5 s) of the 2.8 s clip's start or end, where a side cannot be established.
    assert line["true_in"] + line["true_out"] == 3
    assert abs(line["error"]) <= 3
    # Detection per person-height band: TUD-Campus's people are all large (> 1/4 of 480 px).
    det = run["detection"]
    assert det["bands"]["large"]["gt_boxes"] == det["gt_boxes"] > 0
    assert det["bands"]["small"]["gt_boxes"] == 0 and det["recall"] > 0.6
    (crowd,) = metrics["crowd"]
    assert crowd["frames_evaluated"] == 8 and crowd["mae"] < 15 and crowd["mape"] < 0.5
    # The crowd count split by distance: the bands add up to the whole count.
    bands = [crowd["distance"][b]["true_mean"] for b in ("far", "middle", "near")]
    assert sum(bands) == pytest.approx(crowd["true_mean"])
    report = (out / "report.md").read_text()
    assert "footfall eval configs/eval/short.yaml" in report and "HOTA" in report
    assert "data:image/png;base64," in (out / "report.html").read_text()
