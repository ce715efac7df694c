"""The evaluation manifest (``configs/eval/*.yaml``): what to replay, against what, how.

Paths are relative to the manifest file (like site configs), so ``../../../shared/data/…`` from
``configs/eval/`` is the shared research data beside the checkout; it is resolved at run time and
never copied. Every problem is one sentence naming the manifest, the entry and the fix.
"""

from __future__ import annotations

import configparser
import difflib
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from footfall.errors import UserError
from footfall.site.rules import ESTABLISH_S

SlugText = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", max_length=64)]
NameText = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$", max_length=64)]
Pixel = tuple[float, float]


class ManifestError(UserError, ValueError):
    """The manifest cannot be used; ``str()`` is one sentence with the fix."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ImageLine(_Strict):
    """A counting line drawn on the sequence's image, from ``a`` to ``b`` in pixels."""

    id: SlugText
    a: Pixel
    b: Pixel
    in_side: Literal["left", "right"] = Field(
        description="Side that is 'in', seen walking from a to b in the image (v points down)."
    )


class ImageZone(_Strict):
    """A zone drawn on the sequence's image (polygon in pixels)."""

    id: SlugText
    polygon: list[Pixel] = Field(min_length=3)


class Counting(_Strict):
    """Lines and zones in image pixels, where people in this sequence actually walk."""

    hysteresis_px: float = Field(default=10.0, ge=0.0, description="As line_hysteresis_m.")
    establish_s: float = Field(
        default=ESTABLISH_S, ge=0.0, le=60.0, description="As line_establish_s (seconds)."
    )
    min_visit_s: float = Field(default=2.0, ge=0.0)
    visit_gap_s: float = Field(default=1.0, ge=0.0)
    lines: list[ImageLine] = []
    zones: list[ImageZone] = []


class SequenceEntry(_Strict):
    """One recorded camera with MOTChallenge ground truth."""

    name: NameText
    gt: str = Field(description="MOTChallenge gt.txt (frame,id,left,top,w,h,conf,…).")
    source: str | None = Field(
        default=None,
        description="Video file or img1/ folder; null: ground truth only (no footage here).",
    )
    fps: float | None = Field(default=None, gt=0, description="Default: seqinfo.ini's frameRate.")
    max_frames: int | None = Field(default=None, ge=1)
    site: str | None = Field(default=None, description="Site YAML: count on its floor too.")
    camera: str | None = Field(default=None, description="The sequence's camera in that site.")
    counting: Counting | None = None
    detection_stride: int = Field(
        default=1, ge=1, description="With detection_only: detect every n-th frame."
    )
    note: str = ""

    @model_validator(mode="after")
    def _site_and_camera(self) -> SequenceEntry:
        if (self.site is None) != (self.camera is None):
            raise ValueError("give both site and camera (floor counting) or neither")
        return self


class ConfigEntry(_Strict):
    """One edge configuration: a config file and dotted overrides (``detector.image_size``)."""

    name: NameText
    file: str | None = Field(default=None, description="configs/edge/*.yaml; null: defaults.")
    set: dict[str, Any] = Field(default_factory=dict)


class CrowdEntry(_Strict):
    """A crowd-counting sequence: frames, head annotations and a region of interest (Mall)."""

    name: NameText
    frames: str = Field(description="Folder of frames, in name order.")
    gt: str = Field(description="mall_gt.mat: head points per frame.")
    roi: str = Field(description="perspective_roi.mat: the region-of-interest mask.")
    stride: int = Field(default=1, ge=1, description="Evaluate every n-th frame.")
    max_frames: int | None = Field(default=None, ge=1)
    head_fraction: float = Field(
        default=0.1, gt=0.0, lt=1.0, description="Head point: this far down from the box top."
    )
    person_px: float | None = Field(
        default=None,
        gt=0.0,
        description="A person's height in pixels where the perspective map pMapN is 1 (height "
        "= person_px / sqrt(pMapN)): scores heads found per person-height band. 150 on the Mall.",
    )
    count: Literal["boxes", "tracks"] = Field(
        default="boxes",
        description="boxes: a frame's boxes; tracks: the camera's tracker runs over every frame "
        "and a person counts while their track's first and last sightings span the frame, as "
        "the cloud's occupancy counts (the box count is reported beside it).",
    )
    fps: float | None = Field(
        default=None,
        gt=0.0,
        le=240.0,
        description="The frames' rate, for the tracker (count: tracks); the Mall's is ~2.",
    )

    @model_validator(mode="after")
    def _tracks_need_a_rate(self) -> CrowdEntry:
        if self.count == "tracks" and self.fps is None:
            raise ValueError("count: tracks needs the frames' rate: add fps (2 for the Mall)")
        return self


class EndToEnd(_Strict):
    """Footage → edge → broker → cloud → API on a local stack, against the ground truth."""

    site: str
    cameras: list[str] = Field(min_length=1, description="Camera ids; each a sequence's camera.")
    config: str | None = Field(default=None, description="Name of a config (default: first).")
    max_frames: int | None = Field(default=None, ge=1)


class GroupCamera(_Strict):
    """One camera of a multi-camera group: its ground truth (global ids) and, optionally, what
    to replay instead of the site camera's source (a video or a MOTChallenge detection file)."""

    camera: SlugText = Field(description="Camera id in the group's site.")
    gt: str = Field(description="MOTChallenge gt.txt whose ids are global across the cameras.")
    source: str | None = Field(
        default=None, description="Video or detection file; default: the site camera's source."
    )


class MultiCameraEntry(_Strict):
    """One site seen by several time-aligned cameras (frame N of each at the same instant),
    replayed together, stitched and scored over global ids (footfall/evaluation/multicam.py)."""

    name: NameText
    site: str = Field(description="Site YAML with the cameras, their overlaps and links.")
    cameras: list[GroupCamera] = Field(min_length=1)
    config: str | None = Field(default=None, description="Name of a config (default: first).")
    max_frames: int | None = Field(default=None, ge=1)
    note: str = ""


class Manifest(_Strict):
    name: SlugText
    description: str = ""
    configs: list[ConfigEntry] = Field(default_factory=lambda: [ConfigEntry(name="default")])
    sequences: list[SequenceEntry] = []
    crowd: list[CrowdEntry] = []
    end_to_end: EndToEnd | None = None
    multi_camera: list[MultiCameraEntry] = []
    detection_only: bool = Field(
        default=False,
        description="Run the detector alone on the sequences (every detection_stride-th frame): "
        "precision and recall per person-height band and the detector's fps, no tracking.",
    )

    base_dir: Path = Field(default=Path("."), exclude=True)

    def path(self, value: str) -> Path:
        """A manifest path, resolved against the manifest's folder."""
        path = Path(value).expanduser()
        return path if path.is_absolute() else (self.base_dir / path).resolve()

    def config(self, name: str | None) -> ConfigEntry:
        if name is None:
            return self.configs[0]
        for entry in self.configs:
            if entry.name == name:
                return entry
        valid = ", ".join(c.name for c in self.configs)
        raise ManifestError(f"Manifest '{self.name}': no config named {name!r}; valid: {valid}.")

    def sequence_fps(self, entry: SequenceEntry) -> float:
        if entry.fps is not None:
            return entry.fps
        gt = self.path(entry.gt)
        for info in (gt.parent.parent / "seqinfo.ini", gt.parent / "seqinfo.ini"):
            if info.is_file():
                parser = configparser.ConfigParser()
                parser.read(info)
                return float(parser["Sequence"]["frameRate"])
        raise ManifestError(
            f"Sequence '{entry.name}' has no fps and no seqinfo.ini next to {gt}; add fps: N."
        )


def _check_paths(manifest: Manifest, source: Path) -> None:
    def need(value: str | None, where: str, *, folder: bool = False) -> None:
        if value is None:
            return
        path = manifest.path(value)
        ok = path.is_dir() if folder else path.exists()
        if not ok:
            raise ManifestError(
                f"{source}: {where}: {path} does not exist; fix the path (relative to the "
                "manifest) or fetch the data into ../shared/data."
            )

    for i, seq in enumerate(manifest.sequences):
        need(seq.gt, f"sequences[{i}] ({seq.name}).gt")
        need(seq.source, f"sequences[{i}] ({seq.name}).source")
        need(seq.site, f"sequences[{i}] ({seq.name}).site")
    for i, config in enumerate(manifest.configs):
        need(config.file, f"configs[{i}] ({config.name}).file")
    for i, crowd in enumerate(manifest.crowd):
        need(crowd.frames, f"crowd[{i}] ({crowd.name}).frames", folder=True)
        need(crowd.gt, f"crowd[{i}] ({crowd.name}).gt")
        need(crowd.roi, f"crowd[{i}] ({crowd.name}).roi")
    for i, group in enumerate(manifest.multi_camera):
        need(group.site, f"multi_camera[{i}] ({group.name}).site")
        for j, cam in enumerate(group.cameras):
            need(cam.gt, f"multi_camera[{i}] ({group.name}).cameras[{j}].gt")
            need(cam.source, f"multi_camera[{i}] ({group.name}).cameras[{j}].source")
        manifest.config(group.config)
    if manifest.end_to_end is not None:
        need(manifest.end_to_end.site, "end_to_end.site")
        cameras = {s.camera for s in manifest.sequences if s.source is not None}
        for camera in manifest.end_to_end.cameras:
            if camera not in cameras:
                raise ManifestError(
                    f"{source}: end_to_end.cameras: no sequence with footage has camera "
                    f"{camera!r}; add one with site and camera set, or drop the camera."
                )
        manifest.config(manifest.end_to_end.config)
    names = [s.name for s in manifest.sequences] + [c.name for c in manifest.crowd]
    names += [g.name for g in manifest.multi_camera]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ManifestError(f"{source}: sequence names must be unique; repeated: {dupes}.")
    config_names = [c.name for c in manifest.configs]
    if len(set(config_names)) != len(config_names):
        raise ManifestError(f"{source}: config names must be unique; got {config_names}.")


_FIELDS = sorted(
    {
        name
        for model in (
            Manifest,
            SequenceEntry,
            ConfigEntry,
            CrowdEntry,
            EndToEnd,
            Counting,
            MultiCameraEntry,
            GroupCamera,
        )
        for name in model.model_fields
    }
    | {"id", "a", "b", "in_side", "polygon"}
)


def load_manifest(path: Path) -> Manifest:
    """Read and check a manifest; raises ManifestError with one sentence."""
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ManifestError(
            f"Manifest {path} cannot be read ({exc.strerror}); give a configs/eval/*.yaml file."
        ) from None
    except yaml.YAMLError as exc:
        raise ManifestError(f"Manifest {path} is not valid YAML: {exc}".splitlines()[0]) from None
    if not isinstance(data, dict):
        raise ManifestError(f"Manifest {path} must be a mapping with name, sequences, ….")
    try:
        manifest = Manifest.model_validate(data | {"base_dir": path.resolve().parent})
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            close = difflib.get_close_matches(str(err["loc"][-1]), _FIELDS, n=1)
            message = "unknown field" + (f" — did you mean {close[0]!r}?" if close else "")
        raise ManifestError(
            f"Manifest {path}: {where}: {message} (see footfall/evaluation/manifest.py)."
        ) from None
    _check_paths(manifest, path)
    return manifest
