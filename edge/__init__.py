"""The edge node: camera footage → people → tracks → floor positions → contract messages.

Modules, in pipeline order:

* ``sources`` / ``streams`` -- frames with UTC timestamps from files, img1/ folders, RTSP/HTTP.
* ``detection`` -- the ``Detections`` currency, the ``Detector`` protocol and the ultralytics
  adapter; ``detection_backends`` -- torch / ONNX Runtime / OpenVINO, exports cached.
* ``reid`` -- the ``Embedder`` protocol and its backends (OSNet ONNX/torchreid, offline
  MobileNetV2 + colour histogram).
* ``tracking`` -- the ``Tracker`` protocol and the boxmot BoT-SORT adapter; ``relink`` --
  optional re-finding of lost tracks by appearance.
* ``geometry`` -- feet → floor metres; ``tracklets`` -- tracklet start/end messages.
* ``pipeline`` -- one batch of frames through all of the above; ``node`` / ``run`` -- the
  multi-camera node feeding a ``Sink`` (``sink``, ``sinks``); ``replay``, ``mot``, ``evaluate``,
  ``annotate`` -- evaluation and debugging.
* ``config`` -- the edge node settings (``configs/edge/*.yaml``); ``cli`` -- ``footfall edge``.
"""
