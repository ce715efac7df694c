"""MOTA / IDF1 of MOT files against ground truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from edge_footage import CAMPUS_GT, needs_campus

from edge.evaluate import EvaluationError, evaluate, main


@needs_campus
def test_ground_truth_against_itself_is_perfect_and_id_swaps_cost_idf1(tmp_path: Path) -> None:
    perfect = evaluate(CAMPUS_GT, CAMPUS_GT)
    assert perfect.mota == pytest.approx(1.0) and perfect.idf1 == pytest.approx(1.0)
    rows = np.loadtxt(CAMPUS_GT, delimiter=",")
    swapped = rows.copy()
    late = swapped[:, 0] > 35
    swapped[late, 1] += 100  # every id changes half way
    path = tmp_path / "swapped.txt"
    np.savetxt(path, swapped, delimiter=",", fmt="%g")
    scores = evaluate(path, CAMPUS_GT)
    assert scores.idf1 < 0.7
    assert scores.id_switches >= 5
    assert scores.mota < 1.0


def test_a_missing_file_is_one_sentence(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(EvaluationError, match="does not exist"):
        evaluate(tmp_path / "nope.txt", tmp_path / "gt.txt")
    assert main([str(tmp_path / "a.txt"), str(tmp_path / "b.txt")]) == 1
    assert "does not exist" in capsys.readouterr().err
