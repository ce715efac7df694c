"""The OpenVINO adapter: the only module that imports ``openvino`` and ``nncf``.

* :func:`compile_cpu` compiles an IR (or an in-memory model) for the CPU, optionally with uint8
  BGR NHWC input whose colour swap, float conversion and scaling run inside the model.
* :func:`torch_to_ir` converts a PyTorch module to an IR once and caches it (keyed by the
  weights' hash), so later starts load it in milliseconds.
* :func:`quantize_int8` is NNCF post-training quantization of an IR on calibration samples.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from edge.quiet import quiet_conversion

log = logging.getLogger(__name__)

DEFAULT_CACHE_DIR = Path.home() / ".cache" / "footfall"
"""Root of every model cache of the edge (detector exports, INT8, Re-ID IRs, compiled blobs)."""

_core: Any = None


def core() -> Any:
    global _core
    if _core is None:
        import openvino as ov

        _core = ov.Core()
        # compiled models are cached on disk: a node's later starts compile in a fraction
        cache = DEFAULT_CACHE_DIR / "openvino-compiled"
        try:
            cache.mkdir(parents=True, exist_ok=True)
            _core.set_property({"CACHE_DIR": str(cache)})
        except (OSError, RuntimeError) as exc:
            log.warning("OpenVINO compiled-model cache off (%s)", exc)
    return _core


def read_model(path: Path) -> Any:
    return core().read_model(str(path))


def bgr_u8_input(model: Any, scale: float = 255.0) -> Any:
    """``model`` taking uint8 BGR NHWC images: RGB, float, x / scale and NCHW run inside the
    compiled model."""
    import openvino as ov
    from openvino.preprocess import ColorFormat, PrePostProcessor

    ppp = PrePostProcessor(model)
    ppp.input().tensor().set_element_type(ov.Type.u8).set_layout(
        ov.Layout("NHWC")
    ).set_color_format(ColorFormat.BGR)
    ppp.input().model().set_layout(ov.Layout("NCHW"))
    ppp.input().preprocess().convert_color(ColorFormat.RGB).convert_element_type(ov.Type.f32).scale(
        scale
    )
    return ppp.build()


def compile_cpu(
    model: Any, shape: Sequence[int] | None = None, precision: str = "fp32", threads: int = 0
) -> Any:
    """A compiled model (latency hint) for the CPU; ``shape`` fixes the input shape first."""
    config: dict[str, Any] = {"PERFORMANCE_HINT": "LATENCY"}
    if precision == "fp16":
        config["INFERENCE_PRECISION_HINT"] = "f16"
    if threads:
        config["INFERENCE_NUM_THREADS"] = threads
    if shape is not None:
        model = model.clone()
        model.reshape(list(shape))
    return core().compile_model(model, "CPU", config)


def torch_to_ir(module: Any, example: Any, key_source: Path, name: str,
                cache_dir: Path | None = None) -> Path:  # fmt: skip
    """The IR of a PyTorch ``module`` (traced on ``example``), converted once and cached under
    ``<cache_dir>/reid/<name>-<sha256(key_source)[:16]>/``."""
    import openvino as ov

    digest = hashlib.sha256(key_source.read_bytes()).hexdigest()[:16]
    folder = (cache_dir or DEFAULT_CACHE_DIR) / "reid" / f"{name}-{digest}"
    target = folder / f"{name}.xml"
    if target.exists():
        return target
    staged = folder.with_name(f"{folder.name}.partial-{os.getpid()}")
    shutil.rmtree(staged, ignore_errors=True)
    log.info("converting %s to OpenVINO (once; cached in %s)", name, folder)
    with quiet_conversion():  # no tracing warnings
        model = ov.convert_model(module, example_input=example)
    ov.save_model(model, str(staged / target.name))
    publish_folder(staged, folder)
    return target


def publish_folder(staged: Path, folder: Path) -> None:
    """Move a finished ``staged`` folder to ``folder`` in one rename; if another process got
    there first, keep theirs (both are the same model)."""
    try:
        staged.rename(folder)
    except OSError:
        if not folder.exists():
            raise
        shutil.rmtree(staged, ignore_errors=True)


def quantize_int8(
    fp32_xml: Path, target_xml: Path, samples: list[np.ndarray], ignored: Sequence[str] = ()
) -> Path:
    """NNCF post-training INT8 quantization of an IR on ``samples`` (model inputs), with the
    operations named in ``ignored`` kept in floating point. Writes ``target_xml`` (+ .bin)."""
    import nncf
    import openvino as ov

    logging.getLogger("nncf").setLevel(logging.WARNING)
    quantized = nncf.quantize(
        read_model(fp32_xml),
        nncf.Dataset(samples),
        preset=nncf.QuantizationPreset.MIXED,
        ignored_scope=nncf.IgnoredScope(names=list(ignored), validate=False),
        subset_size=len(samples),
    )
    target_xml.parent.mkdir(parents=True, exist_ok=True)
    ov.save_model(quantized, str(target_xml))
    return target_xml


def operations(model_xml: Path) -> list[tuple[str, str]]:
    """(type, friendly name) of every operation of an IR, in order."""
    return [
        (op.get_type_name(), op.get_friendly_name())
        for op in read_model(model_xml).get_ordered_ops()
    ]
