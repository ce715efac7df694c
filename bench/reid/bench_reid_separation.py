"""How well real Re-ID tells people apart on real crops, against the simulator's scenarios.

    python bench/reid/bench_reid_separation.py [--stride 3] [--segment 10] [--people 19]
                                               [--scenarios smoke,light,moderate,hard]
                                               [--sim-duration 300] [--json FILE]

Crops the ground-truth boxes of PETS09-S2L1 View_001 (``../shared/data/pets2009_s2l1``: 795
frames, 19 people) every ``--stride`` frames, embeds them with each real embedder the edge has
(``mobilenet_hist``: ImageNet MobileNetV2 + HSV stripes on OpenVINO; ``mobilenet_parts``, the
offline default: that MobileNetV2's stripes + centre-weighted HSV stripe histograms; and
OSNet x0.25 MSMT17 on ONNX Runtime, weights from ``../shared/models``, evaluation only), and
prints, per embedder, the figures of :func:`footfall.simulate.appearance.separation` twice:
per crop, and per tracklet segment (``--segment`` consecutive crops of one person averaged and
L2-normalised, as the edge averages a track's embeddings into its tracklet's). Then the same
figures for the tracklets of each simulator scenario (run for ``--sim-duration`` seconds), whose
embeddings play the part of a tracklet's. Retrieval (mAP, rank-1) is averaged over galleries of
``--people`` people (PETS has 19), so the simulator's hundreds of visitors compare on equal terms.
Boxes less than half inside the image are skipped.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from edge.reid import crop, l2_normalise  # noqa: E402
from footfall.simulate import scenario  # noqa: E402
from footfall.simulate.appearance import Separation, separation, tracklet_embeddings  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "pets2009_s2l1"
VIDEO = DATA / "video" / "View_001_vtest.avi"
GT = DATA / "gt" / "mot15_gt.txt"
OSNET = ROOT.parent / "shared" / "models" / "osnet_x0_25_msmt17.onnx"


def pets_crops(stride: int) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """(crops, person ids, frame numbers) of the ground-truth boxes of every ``stride``-th
    frame."""
    gt = np.loadtxt(GT, delimiter=",", usecols=range(6))
    gt = gt[(gt[:, 0] - 1) % stride == 0]
    capture = cv2.VideoCapture(str(VIDEO))
    crops: list[np.ndarray] = []
    ids: list[int] = []
    frames: list[int] = []
    frame_no = 0
    wanted = set(gt[:, 0].astype(int).tolist())
    while True:
        ok, image = capture.read()
        if not ok:
            break
        frame_no += 1
        if frame_no not in wanted:
            continue
        h, w = image.shape[:2]
        for row in gt[gt[:, 0] == frame_no]:
            x, y, bw, bh = row[2:6]
            x1, y1, x2, y2 = max(0, x), max(0, y), min(w, x + bw), min(h, y + bh)
            if (x2 - x1) * (y2 - y1) < 0.5 * bw * bh:
                continue
            crops.append(crop(image, np.array([x, y, x + bw, y + bh])))
            ids.append(int(row[1]))
            frames.append(frame_no)
    capture.release()
    return crops, np.array(ids), np.array(frames)


def segments(
    vectors: np.ndarray, ids: np.ndarray, frames: np.ndarray, size: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each person's crops in frame order, cut into runs of ``size`` (a shorter last run is
    kept if it has at least half), each run's mean L2-normalised."""
    out, labels = [], []
    for person in np.unique(ids):
        rows = np.flatnonzero(ids == person)
        rows = rows[np.argsort(frames[rows])]
        for start in range(0, len(rows), size):
            run = rows[start : start + size]
            if len(run) * 2 < size:
                continue
            out.append(vectors[run].mean(axis=0))
            labels.append(person)
    return l2_normalise(np.array(out)), np.array(labels)


def embedders() -> dict[str, object]:
    from edge.reid.mobilenet_hist import MobilenetHistEmbedder
    from edge.reid.mobilenet_parts import MobilenetPartsEmbedder
    from edge.reid.osnet_onnx import OsnetOnnxEmbedder

    out: dict[str, object] = {
        "mobilenet_hist": MobilenetHistEmbedder(),
        "mobilenet_parts": MobilenetPartsEmbedder(),
    }
    if OSNET.is_file():
        out["osnet_x0_25"] = OsnetOnnxEmbedder(str(OSNET))
    else:
        print(f"(no {OSNET}: OSNet x0.25 skipped)")
    return out


def row(name: str, s: Separation) -> str:
    q = s.same_q
    d = s.diff_q
    return (
        f"{name:<26} {s.items:>5} {s.people:>4}  {s.same_mean:6.3f}±{s.same_std:5.3f} "
        f"[{q[0]:5.2f} {q[2]:5.2f} {q[4]:5.2f}]  {s.diff_mean:6.3f}±{s.diff_std:5.3f} "
        f"[{d[0]:5.2f} {d[2]:5.2f} {d[4]:5.2f}]  {s.auc:6.3f} {s.d_prime:5.2f} "
        f"{100 * s.map:5.1f} {100 * s.rank1:5.1f}  "
        f"{s.scaled[0]:5.2f}±{s.scaled[1]:4.2f} ±{s.scaled[2]:4.2f}"
    )


HEADER = (
    f"{'embeddings':<26} {'items':>5} {'ids':>4}  {'same mean±std [q05 q50 q95]':<32}  "
    f"{'different mean±std [q05 q50 q95]':<32}  {'AUC':>6} {'d′':>5} {'mAP':>5} {'R1':>5}  "
    "scaled: same, diff"
)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stride", type=int, default=3, help="crop every Nth frame (default 3)")
    ap.add_argument("--segment", type=int, default=10, help="crops per tracklet segment")
    ap.add_argument("--people", type=int, default=19, help="people per retrieval gallery")
    ap.add_argument("--scenarios", default="smoke,light,moderate,hard")
    ap.add_argument("--sim-duration", type=float, default=300.0, help="seconds simulated")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    if not VIDEO.is_file() or not GT.is_file():
        print(f"PETS09-S2L1 is missing: expected {VIDEO} and {GT}.", file=sys.stderr)
        return 2
    figures: dict[str, dict[str, object]] = {}
    t0 = time.perf_counter()
    crops, ids, frames = pets_crops(args.stride)
    print(
        f"PETS09-S2L1 View_001: {len(crops)} ground-truth crops of {len(set(ids))} people "
        f"(every {args.stride} frames) in {time.perf_counter() - t0:.1f} s"
    )
    print(HEADER)
    for name, embedder in embedders().items():
        t = time.perf_counter()
        vectors = np.concatenate(
            [embedder.embed(crops[i : i + 32]) for i in range(0, len(crops), 32)]  # type: ignore[attr-defined]
        )
        spent = time.perf_counter() - t
        per_crop = separation(vectors, ids, people=args.people)
        seg_x, seg_y = segments(vectors, ids, frames, args.segment)
        per_seg = separation(seg_x, seg_y, people=args.people)
        figures[f"pets/{name}/crop"] = per_crop.as_dict()
        figures[f"pets/{name}/segment"] = per_seg.as_dict()
        figures[f"pets/{name}/crop"]["embed_ms_per_crop"] = round(1000 * spent / len(crops), 2)
        print(row(f"{name} crop", per_crop))
        print(row(f"{name} segment×{args.segment}", per_seg))
    for name in [s for s in args.scenarios.split(",") if s]:
        t = time.perf_counter()
        x, y = tracklet_embeddings(scenario(name), duration_s=args.sim_duration)
        s = separation(x, y, people=args.people)
        figures[f"sim/{name}"] = s.as_dict()
        print(row(f"sim {name} tracklet", s) + f"   ({time.perf_counter() - t:.0f} s)")
    print(f"total {time.perf_counter() - t0:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
