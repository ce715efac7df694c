"""The edge at scale: one device (CUDA or CPU) carrying many cameras.

- :mod:`edge.engine.batched`: frames of every camera in one step, letterboxed, normalised, run
  through the detector and non-maximum suppressed on the device (torch ops; FP16 on CUDA, FP32 on
  CPU), boxes mapped back per camera; Re-ID crops cut and resized on the device
  (``torchvision.ops.roi_align``) and embedded in one batch.
- :mod:`edge.engine.decode`: one decode worker per camera (a thread; OpenCV, or NVIDIA hardware
  decode with PyNvVideoCodec where configured and installed), newest frame kept, drops counted.
- :mod:`edge.engine.workers`: tracking and message making for groups of cameras in worker
  processes, with bounded queues: a frame a busy worker cannot take is skipped and counted.
- :mod:`edge.engine.bench`: ``footfall edge bench``, the whole chain measured on N streams.
"""
