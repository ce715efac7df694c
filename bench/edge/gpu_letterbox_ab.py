"""One end-to-end run of ``footfall edge bench --device cuda`` at a fixed stream count, with the
engine's letterbox as it is (the frames of one shape resized together) or per frame.

Run on the GPU machine by ``bash bench/edge/gpu_bench.sh letterbox-ab`` (both variants, 20
streams, OpenCV decode); the JSON of each goes to ``$OUT/letterbox_<variant>.json``. It lives in a
file of its own because the tracking processes are spawned and must re-import ``__main__``.

    python bench/edge/gpu_letterbox_ab.py batched|per_frame [STREAMS] [OUT_DIR]
"""

from __future__ import annotations

import functools
import sys

import edge.engine.batched as batched
from footfall.cli import main

if __name__ == "__main__":
    variant = sys.argv[1]
    streams = sys.argv[2] if len(sys.argv) > 2 else "20"
    out = sys.argv[3] if len(sys.argv) > 3 else "."
    if variant == "per_frame":
        batched.letterbox_batch = functools.partial(batched.letterbox_batch, batched=False)
    elif variant != "batched":
        sys.exit(f"variant {variant!r}: use batched or per_frame")
    sys.argv = ["footfall", "edge", "bench", "--device", "cuda", "--streams", streams]
    sys.argv += ["--no-search", "--duration-s", "6", "--json", f"{out}/letterbox_{variant}.json"]
    main()
