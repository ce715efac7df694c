"""Is the INT8 detector the same model every time it is calibrated?

    python bench/edge/int8_reproducible.py [--site configs/sites/demo.yaml] [--image-size 640]
        [--runs 2]

Quantizes the cached FP32 OpenVINO export of the packaged YOLOv8n ``--runs`` times with NNCF on
the site's calibration frames (the frames and settings an edge node uses:
``edge.detection_backends.calibration_images``, ``detector.calibration_frames``), each into a
fresh folder, and prints the sha256 of each result's weights beside the cached model's. The same
hash every time: calibration is reproducible (NNCF's min-max statistics and bias correction have
no random part, and the calibration frames are spread evenly over each source, not sampled), so
INT8 figures differ only where the calibration set does (its key names the sources and the
frame count) or the runtime does.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--site", type=Path, default=REPO / "configs" / "sites" / "demo.yaml")
    parser.add_argument("--image-size", type=int, default=640)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()

    from edge.config import DetectorConfig
    from edge.detection_backends import calibration_images, exported_model, int8_model
    from edge.detection_openvino import quantize_int8
    from edge.weights import verified_weights
    from footfall.site import load_site

    site = load_site(args.site)
    sources = [c.source for c in site.cameras]
    config = DetectorConfig(precision="int8", image_size=args.image_size)
    # The FP32 export and the node's INT8 model, made once and cached (as the node does).
    folder = exported_model(verified_weights(), "openvino", args.image_size, config.cache_dir)
    fp32 = next(folder.glob("*.xml"))
    cached = int8_model(fp32, config, sources)
    files = sorted({str(Path(s).resolve()) for s in sources if Path(s).exists()})
    images = list(calibration_images(files, config.calibration_frames))

    def digest(xml: Path) -> str:
        return hashlib.sha256(xml.with_suffix(".bin").read_bytes()).hexdigest()[:16]

    print(f"cached INT8 model ({cached.parent.name}): {digest(cached)}")
    hashes = {digest(cached)}
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as scratch:
            target = Path(scratch) / fp32.name
            quantize_int8(fp32, target, images, args.image_size)
            hashes.add(digest(target))
            print(f"calibration {run + 1} of {args.runs} ({len(images)} frames): {digest(target)}")
    print("reproducible: the same model every time" if len(hashes) == 1 else "NOT reproducible")
    return 0 if len(hashes) == 1 else 1


if __name__ == "__main__":
    raise SystemExit(main())
