"""Model conversions that print nothing a user must ignore.

The first use of an ONNX or OpenVINO detector, or of an OpenVINO Re-ID network, converts a PyTorch
model once (then it is cached). The converters talk meanwhile: ultralytics' exporter logs its
progress and a banner of commands for its own tool (``Validate: yolo val … data=coco.yaml``,
``Visualize: https://netron.app``), and tracing warns about itself (``torch.jit.trace`` is
deprecated; ``TracerWarning`` on every shape-dependent branch of the network). None of it is
about the user's set-up: :func:`quiet_conversion` keeps it out, and leaves the converters'
errors, and every other warning, as they are. Our own one line (``exporting … (once; cached in
…)``) still says what happens.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def quiet_conversion() -> Iterator[None]:
    """Within: ultralytics logs warnings and errors only, and tracing warnings are not shown."""
    ultralytics = logging.getLogger("ultralytics")
    level = ultralytics.level
    ultralytics.setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"`torch\.jit\.trace")
            try:
                from torch.jit._trace import TracerWarning
            except ImportError:  # no torch: nothing traces
                pass
            else:
                warnings.simplefilter("ignore", TracerWarning)
            yield
    finally:
        ultralytics.setLevel(level)
