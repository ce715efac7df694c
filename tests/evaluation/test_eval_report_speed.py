"""The report's header says what its frames/s time: the whole pipeline for tracking runs, the
detector for crowd counts and detection runs (the detector-only Mall report once claimed the
whole pipeline). Rendered from the committed reports' own metrics.json."""

from __future__ import annotations

import json
from pathlib import Path

from footfall.evaluation.report import Para, blocks
from footfall.evaluation.runner import Results

REPORTS = Path(__file__).resolve().parents[2] / "reports" / "eval"


def _header(name: str) -> str:
    results = Results(**json.loads((REPORTS / name / "metrics.json").read_text()))
    paras = [b for b in blocks(results) if isinstance(b, Para)]
    return next(p.text for p in paras if p.text.startswith("Measured on"))


def test_a_detector_only_report_does_not_claim_the_whole_pipeline() -> None:
    header = _header("detection_sweep")  # crowd counts and detection runs, no tracking
    assert "whole pipeline" not in header
    assert "of the crowd count are image decoding and the detector, tiles included" in header
    assert "those of the detection runs are the detector alone" in header
    assert "whole pipeline" not in _header("detection_mall")  # crowd counts only


def test_a_tracking_report_says_whole_pipeline() -> None:
    header = _header("all")
    assert "of the tracking runs are the whole pipeline (decode, detect, Re-ID" in header
    assert "those of the crowd count are image decoding" in header  # it has the Mall too
