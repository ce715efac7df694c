"""Tracking accuracy of MOTChallenge rows against ground truth: HOTA, IDF1, MOTA and the rest.

The one scorer of the project: ``footfall edge evaluate`` / ``replay --gt``, ``footfall eval``
(:mod:`footfall.evaluation`) and ``make bench-edge`` all call :func:`score`, so two figures of
the same run cannot disagree. The metrics are TrackEval's own (``trackeval.metrics.HOTA``,
``CLEAR``, ``Identity``: the code behind the MOTChallenge leaderboards; extra ``edge``), fed
directly from arrays: per frame the ground-truth ids, the system's ids and their box IoU.
Ground-truth rows with ``conf == 0`` (ignored regions) are dropped. CLEAR (MOTA, precision,
recall, id switches) and Identity (IDF1) match at IoU >= 0.5, as in MOTChallenge 2D; HOTA
averages over IoU thresholds 0.05 … 0.95.

``python -m edge.evaluate RESULT GT [RESULT GT …]`` or ``footfall edge evaluate``.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from footfall.errors import UserError

MotRows = np.ndarray
"""(N, >= 6) float array of MOTChallenge rows: frame (from 1), id, left, top, width, height, …"""


class EvaluationError(UserError, RuntimeError):
    """A result or GT file cannot be evaluated; ``str()`` is one sentence with the fix."""


@dataclass(frozen=True)
class TrackingScores:
    """One sequence's scores; ratios in 0..1 (MOTA may be negative), counts as integers."""

    hota: float
    deta: float
    assa: float
    loca: float
    mota: float
    motp: float
    idf1: float
    idp: float
    idr: float
    precision: float
    recall: float
    id_switches: int
    fragmentations: int
    true_positives: int
    false_positives: int
    misses: int
    mostly_tracked: int
    mostly_lost: int
    gt_ids: int
    predicted_ids: int
    gt_boxes: int
    predicted_boxes: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        """The figures on one line, as ``footfall edge evaluate`` prints them."""
        return (
            f"HOTA {self.hota:.3f}  MOTA {self.mota:.3f}  IDF1 {self.idf1:.3f}  "
            f"IDsw {self.id_switches}  FP {self.false_positives}  FN {self.misses}  "
            f"precision {self.precision:.3f}  recall {self.recall:.3f}  "
            f"ids {self.predicted_ids} (GT {self.gt_ids})"
        )


def load_mot(path: Path, *, ground_truth: bool = False) -> MotRows:
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


def box_iou(gt_xywh: np.ndarray, hyp_xywh: np.ndarray) -> np.ndarray:
    """(G, H) IoU of boxes given as (left, top, width, height)."""
    g = np.column_stack([gt_xywh[:, :2], gt_xywh[:, :2] + gt_xywh[:, 2:4]])[:, None, :]
    h = np.column_stack([hyp_xywh[:, :2], hyp_xywh[:, :2] + hyp_xywh[:, 2:4]])[None, :, :]
    w = (np.minimum(g[..., 2], h[..., 2]) - np.maximum(g[..., 0], h[..., 0])).clip(0)
    ht = (np.minimum(g[..., 3], h[..., 3]) - np.maximum(g[..., 1], h[..., 1])).clip(0)
    inter = w * ht
    area_g = (gt_xywh[:, 2] * gt_xywh[:, 3])[:, None]
    area_h = (hyp_xywh[:, 2] * hyp_xywh[:, 3])[None, :]
    return np.asarray(inter / np.maximum(area_g + area_h - inter, 1e-9), np.float64)


def trackeval_data(gt: MotRows, hyp: MotRows, frames: np.ndarray | None = None) -> dict[str, Any]:
    """The per-sequence dict TrackEval's metrics take, from GT and result rows.

    ``frames``: the frames evaluated (default: every frame either file mentions); ids are
    renumbered 0 … n-1 as TrackEval expects.
    """
    if frames is None:
        frames = np.union1d(gt[:, 0], hyp[:, 0]).astype(int)
    gt_uniq, gt_idx = np.unique(gt[:, 1], return_inverse=True)
    hyp_uniq, hyp_idx = np.unique(hyp[:, 1], return_inverse=True)
    gt_ids, hyp_ids, similarity = [], [], []
    for frame in frames:
        g, h = gt[:, 0] == frame, hyp[:, 0] == frame
        gt_ids.append(gt_idx[g].astype(int))
        hyp_ids.append(hyp_idx[h].astype(int))
        similarity.append(box_iou(gt[g, 2:6], hyp[h, 2:6]))
    return {
        "num_timesteps": len(frames),
        "num_gt_ids": len(gt_uniq),
        "num_tracker_ids": len(hyp_uniq),
        "num_gt_dets": len(gt),
        "num_tracker_dets": len(hyp),
        "gt_ids": gt_ids,
        "tracker_ids": hyp_ids,
        "similarity_scores": similarity,
    }


def score(gt: MotRows, hyp: MotRows, frames: np.ndarray | None = None) -> TrackingScores:
    """HOTA, CLEAR and Identity metrics of ``hyp`` against ``gt`` (TrackEval)."""
    from trackeval.metrics import CLEAR, HOTA, Identity

    quiet = {"PRINT_CONFIG": False}
    data = trackeval_data(gt, hyp, frames)
    hota = HOTA(quiet).eval_sequence(data)
    clear = CLEAR(quiet).eval_sequence(data)
    identity = Identity(quiet).eval_sequence(data)
    return TrackingScores(
        hota=float(np.mean(hota["HOTA"])),
        deta=float(np.mean(hota["DetA"])),
        assa=float(np.mean(hota["AssA"])),
        loca=float(np.mean(hota["LocA"])),
        mota=float(clear["MOTA"]),
        motp=float(clear["MOTP"]),
        idf1=float(identity["IDF1"]),
        idp=float(identity["IDP"]),
        idr=float(identity["IDR"]),
        precision=float(clear["CLR_Pr"]),
        recall=float(clear["CLR_Re"]),
        id_switches=int(clear["IDSW"]),
        fragmentations=int(clear["Frag"]),
        true_positives=int(clear["CLR_TP"]),
        false_positives=int(clear["CLR_FP"]),
        misses=int(clear["CLR_FN"]),
        mostly_tracked=int(clear["MT"]),
        mostly_lost=int(clear["ML"]),
        gt_ids=data["num_gt_ids"],
        predicted_ids=data["num_tracker_ids"],
        gt_boxes=data["num_gt_dets"],
        predicted_boxes=data["num_tracker_dets"],
    )


def hota_curve(gt: MotRows, hyp: MotRows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(alpha, HOTA(alpha), DetA(alpha)) over TrackEval's IoU thresholds, for plots."""
    from trackeval.metrics import HOTA

    metric = HOTA({"PRINT_CONFIG": False})
    res = metric.eval_sequence(trackeval_data(gt, hyp))
    return np.asarray(metric.array_labels), np.asarray(res["HOTA"]), np.asarray(res["DetA"])


def evaluate(result: Path, gt: Path, frames: Iterable[int] | None = None) -> TrackingScores:
    """Score the MOTChallenge file ``result`` against ``gt``.

    ``frames``: the MOT frame numbers (from 1) that were processed, e.g. the frames a replay
    with ``--max-frames`` ran; only their ground truth is scored. Default: every frame either
    file mentions.
    """
    hyp = load_mot(result)  # the result first: its error is the one reported when both fail
    truth = load_mot(gt, ground_truth=True)
    if frames is None:
        return score(truth, hyp)
    wanted = np.unique(np.fromiter(frames, dtype=np.int64))
    return score(truth[np.isin(truth[:, 0], wanted)], hyp[np.isin(hyp[:, 0], wanted)], wanted)


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
