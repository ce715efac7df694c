"""CLEAR-MOT and identity metrics (MOTA, IDF1, …) of a MOTChallenge result file against GT.

``python -m edge.evaluate RESULT GT [RESULT GT …]`` or ``footfall edge evaluate``. Matching is
by box IoU >= 0.5, as in MOTChallenge 2D; GT rows with ``conf == 0`` (ignored regions) are
dropped. Uses ``motmetrics`` (extra ``edge``).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from footfall.errors import UserError


class EvaluationError(UserError, RuntimeError):
    """A result or GT file cannot be evaluated; ``str()`` is one sentence with the fix."""


@dataclass(frozen=True)
class MotScores:
    mota: float
    idf1: float
    motp_iou: float
    precision: float
    recall: float
    id_switches: int
    false_positives: int
    misses: int
    gt_ids: int
    predicted_ids: int

    def line(self) -> str:
        return (
            f"MOTA {self.mota:.3f}  IDF1 {self.idf1:.3f}  IDsw {self.id_switches}  "
            f"FP {self.false_positives}  FN {self.misses}  precision {self.precision:.3f}  "
            f"recall {self.recall:.3f}  ids {self.predicted_ids} (GT {self.gt_ids})"
        )


def load_mot(path: Path, *, ground_truth: bool = False) -> np.ndarray:
    """Rows ``frame, id, x, y, w, h, conf`` (float64, (N, 7)) of a MOTChallenge text file."""
    if not path.is_file():
        raise EvaluationError(f"{path} does not exist; give a MOTChallenge .txt file.")
    try:
        rows = np.loadtxt(path, delimiter=",", ndmin=2, usecols=range(7))
    except ValueError as exc:
        raise EvaluationError(f"{path} is not a MOTChallenge file ({exc}).") from None
    if ground_truth and len(rows):
        rows = rows[rows[:, 6] != 0]
    return np.asarray(rows, np.float64)


def iou_distance(gt_xywh: np.ndarray, hyp_xywh: np.ndarray, max_iou_distance: float) -> np.ndarray:
    """1 - IoU between every GT and hypothesis box, NaN where the pair may not match."""
    g = np.column_stack([gt_xywh[:, :2], gt_xywh[:, :2] + gt_xywh[:, 2:]])[:, None, :]
    h = np.column_stack([hyp_xywh[:, :2], hyp_xywh[:, :2] + hyp_xywh[:, 2:]])[None, :, :]
    w = (np.minimum(g[..., 2], h[..., 2]) - np.maximum(g[..., 0], h[..., 0])).clip(0)
    ht = (np.minimum(g[..., 3], h[..., 3]) - np.maximum(g[..., 1], h[..., 1])).clip(0)
    inter = w * ht
    union = (gt_xywh[:, 2] * gt_xywh[:, 3])[:, None] + (hyp_xywh[:, 2] * hyp_xywh[:, 3])[None]
    dist = 1.0 - inter / np.maximum(union - inter, 1e-9)
    dist[dist > max_iou_distance] = np.nan
    return np.asarray(dist, np.float64)


def evaluate(result: Path, gt: Path, min_iou: float = 0.5) -> MotScores:
    """Score ``result`` against ``gt`` over every GT frame."""
    import motmetrics as mm

    hyp_rows, gt_rows = load_mot(result), load_mot(gt, ground_truth=True)
    acc = mm.MOTAccumulator(auto_id=False)
    frames = np.union1d(gt_rows[:, 0], hyp_rows[:, 0]).astype(int)
    for frame in frames:
        g = gt_rows[gt_rows[:, 0] == frame]
        h = hyp_rows[hyp_rows[:, 0] == frame]
        dist = iou_distance(g[:, 2:6], h[:, 2:6], 1.0 - min_iou)
        acc.update(g[:, 1].astype(int), h[:, 1].astype(int), dist, frameid=int(frame))
    metrics = [
        "mota", "idf1", "motp", "precision", "recall", "num_switches",
        "num_false_positives", "num_misses", "num_unique_objects",
    ]  # fmt: skip
    summary = mm.metrics.create().compute(acc, metrics=metrics, name="result").iloc[0]
    return MotScores(
        mota=float(summary["mota"]),
        idf1=float(summary["idf1"]),
        motp_iou=1.0 - float(summary["motp"]),
        precision=float(summary["precision"]),
        recall=float(summary["recall"]),
        id_switches=int(summary["num_switches"]),
        false_positives=int(summary["num_false_positives"]),
        misses=int(summary["num_misses"]),
        gt_ids=int(summary["num_unique_objects"]),
        predicted_ids=len(np.unique(hyp_rows[:, 1])) if len(hyp_rows) else 0,
    )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not args or len(args) % 2:
        print("usage: python -m edge.evaluate RESULT.txt GT.txt [RESULT.txt GT.txt …]")
        return 2
    for result, gt in zip(args[::2], args[1::2], strict=True):
        try:
            print(f"{result}: {evaluate(Path(result), Path(gt)).line()}")
        except EvaluationError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
