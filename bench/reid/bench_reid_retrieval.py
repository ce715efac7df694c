"""Re-ID embedders compared on the ground-truth crops of every shared sequence with footage.

    python bench/reid/bench_reid_retrieval.py [--embedders mobilenet_hist,mobilenet_parts,osnet]
                                              [--json FILE]

Crops the ground-truth boxes of PETS09-S2L1 View_001 (every 3rd frame), TUD-Campus (every frame)
and TUD-Stadtmitte (every 2nd frame) from ``../shared/data`` (boxes less than half inside the
image or under 24 px tall skipped), embeds them with each embedder the edge can build
(``edge.reid.build_embedder``; ``osnet``: OSNet x0.25 MSMT17 from ``../shared/models``,
evaluation only, never shipped), and prints per sequence the cosine retrieval mAP / rank-1 (each
crop queries all the others; galleries of at most 19 people, 5 draws) and the AUC of same-person
against different-person similarities (:func:`footfall.simulate.appearance.separation`), the
cosine distances (1 - similarity) within one person and between two (mean, 5th and 95th
percentiles) and the milliseconds per crop. Embedders are judged on all three sequences
together; nothing here is fitted to them.
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

from edge.config import ReidConfig  # noqa: E402
from edge.reid import build_embedder, crop  # noqa: E402
from footfall.simulate.appearance import separation  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
OSNET = ROOT.parent / "shared" / "models" / "osnet_x0_25_msmt17.onnx"
SEQUENCES = {  # name: (video, ground truth, frame stride)
    "PETS09-S2L1": (DATA / "pets2009_s2l1/video/View_001_vtest.avi",
                    DATA / "pets2009_s2l1/gt/mot15_gt.txt", 3),
    "TUD-Campus": (DATA / "mot15/TUD-Campus/TUD-Campus.mp4",
                   DATA / "mot15/TUD-Campus/gt/gt.txt", 1),
    "TUD-Stadtmitte": (DATA / "mot15/TUD-Stadtmitte/TUD-Stadtmitte.mp4",
                       DATA / "mot15/TUD-Stadtmitte/gt/gt.txt", 2),
}  # fmt: skip


def gt_crops(video: Path, gt_file: Path, stride: int) -> tuple[list[np.ndarray], np.ndarray]:
    """(crops, person ids) of the ground-truth boxes of every ``stride``-th frame."""
    gt = np.loadtxt(gt_file, delimiter=",", usecols=range(6))
    gt = gt[(gt[:, 0] - 1) % stride == 0]
    capture = cv2.VideoCapture(str(video))
    crops: list[np.ndarray] = []
    ids: list[int] = []
    frame_no = 0
    while True:
        ok, image = capture.read()
        if not ok:
            break
        frame_no += 1
        h, w = image.shape[:2]
        for row in gt[gt[:, 0] == frame_no]:
            x, y, bw, bh = row[2:6]
            x1, y1, x2, y2 = max(0, x), max(0, y), min(w, x + bw), min(h, y + bh)
            if (x2 - x1) * (y2 - y1) < 0.5 * bw * bh or bh < 24:
                continue
            crops.append(crop(image, np.array([x, y, x + bw, y + bh])).copy())
            ids.append(int(row[1]))
    capture.release()
    return crops, np.array(ids)


def embedder(name: str) -> object:
    if name == "osnet":
        return build_embedder(ReidConfig(backend="osnet_onnx", weights=OSNET))
    return build_embedder(ReidConfig(backend=name))  # type: ignore[arg-type]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--embedders", default="mobilenet_hist,mobilenet_parts,osnet")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    missing = [str(v) for v, g, _ in SEQUENCES.values() if not v.is_file() or not g.is_file()]
    if missing:
        print(f"footage missing: {', '.join(missing)}", file=sys.stderr)
        return 2
    names = [n for n in args.embedders.split(",") if n]
    if "osnet" in names and not OSNET.is_file():
        print(f"(no {OSNET}: OSNet x0.25 skipped)")
        names.remove("osnet")
    data = {seq: gt_crops(*spec) for seq, spec in SEQUENCES.items()}
    for seq, (crops, ids) in data.items():
        print(f"{seq}: {len(crops)} ground-truth crops of {len(set(ids.tolist()))} people")
    print(
        f"{'embedder':<17}{'sequence':<16}{'mAP':>6}{'R1':>6}{'AUC':>7}  "
        f"{'same dist mean [q05 q95]':<25}{'different dist mean [q05 q95]':<30}{'ms/crop':>8}"
    )
    figures: dict[str, dict[str, float]] = {}
    for name in names:
        model = embedder(name)
        model.embed(data["TUD-Campus"][0][:8])  # type: ignore[attr-defined]  # warm-up
        maps, aucs = [], []
        for seq, (crops, ids) in data.items():
            t = time.perf_counter()
            vectors = np.concatenate(
                [model.embed(crops[i : i + 32]) for i in range(0, len(crops), 32)]  # type: ignore[attr-defined]
            )
            ms = 1000 * (time.perf_counter() - t) / len(crops)
            s = separation(vectors, ids, people=min(19, len(set(ids.tolist()))))
            same_q, diff_q = s.same_q, s.diff_q  # similarity quantiles 5, 25, 50, 75, 95 %
            maps.append(s.map)
            aucs.append(s.auc)
            figures[f"{name}/{seq}"] = {
                "map": s.map, "rank1": s.rank1, "auc": s.auc, "ms_per_crop": ms,
                "same_dist_mean": 1 - s.same_mean, "diff_dist_mean": 1 - s.diff_mean,
                "diff_sim_mean": s.diff_mean,
            }  # fmt: skip
            print(
                f"{name:<17}{seq:<16}{100 * s.map:6.1f}{100 * s.rank1:6.1f}{s.auc:7.3f}  "
                f"{1 - s.same_mean:5.3f} [{1 - same_q[4]:4.2f} {1 - same_q[0]:4.2f}]"
                f"{'':<10}{1 - s.diff_mean:5.3f} [{1 - diff_q[4]:4.2f} {1 - diff_q[0]:4.2f}]"
                f"{'':<14}{ms:8.2f}",
                flush=True,
            )
        print(f"{name:<17}{'mean':<16}{100 * np.mean(maps):6.1f}{'':>6}{np.mean(aucs):7.3f}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
