"""Tracking accuracy of MOTChallenge rows against ground truth: HOTA, IDF1, MOTA and the rest.

The metrics are TrackEval's own (``trackeval.metrics.HOTA``, ``CLEAR``, ``Identity``: the code
behind the MOTChallenge leaderboards), fed directly from arrays: per frame the ground-truth ids,
the system's ids and their box IoU. Ground-truth rows with ``conf == 0`` (ignored regions) are
dropped, as in :func:`edge.evaluate.load_mot`. CLEAR (MOTA, precision, recall, id switches) and
Identity (IDF1) match at IoU >= 0.5; HOTA averages over IoU thresholds 0.05 … 0.95.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

MotRows = np.ndarray
"""(N, >= 6) float array of MOTChallenge rows: frame (from 1), id, left, top, width, height, …"""


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
