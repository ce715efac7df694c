"""DeepStream configuration files written from the site model (``footfall deepstream config``).

Four files for one DeepStream node that runs some of a site's cameras, stream N being the N-th
camera asked for:

* ``nvdsanalytics.txt`` -- Gst-nvdsanalytics: each counting line the camera sees as two
  line-crossing rules (``<line>-in``, ``<line>-out``: the arrow across the line points to its
  in side or away from it), each zone part it sees as an ROI (``roi-filtering-stream-N``) and
  an overcrowding ROI (``overcrowding-stream-N``). Coordinates are image coordinates through the
  inverse homography, written in a ``config-width`` × ``config-height`` space of
  :data:`CONFIG_WIDTH` × :data:`CONFIG_HEIGHT` that nvdsanalytics scales to each frame, so that
  its integer coordinates keep a tenth of a pixel.
* ``msgconv.txt`` -- Gst-nvmsgconv: ``[sensorN]`` with the camera id as the sensor id (the
  bridge's ``sensorId`` → camera mapping), ``[placeN]`` (site, floor) and ``[analyticsN]``.
* ``cfg_kafka.txt`` -- the Kafka protocol adaptor: records keyed by sensor id, so one camera's
  messages stay in order on one partition.
* ``deepstream_app.txt`` -- a deepstream-app skeleton: the sources, streammux, a primary detector
  and tracker to fill in, nvdsanalytics, and a message converter + broker sink (type 6) sending
  the minimal schema (frame metadata, ``msg2p-new-api``) to the bridge's topic on Kafka.

All are GLib key files (``[group]`` and ``key=value``), the format DeepStream reads; a test
parses them back. Coordinates use the same homography as the edge and the cloud.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from footfall.deepstream.geometry import CameraView, ImageLine, ImageZone
from footfall.errors import UserError
from footfall.site import Camera, Site

CONFIG_WIDTH: Final = 7680
"""nvdsanalytics ``config-width``: coordinates are written in this space (scaled per frame)."""
CONFIG_HEIGHT: Final = 4320
"""nvdsanalytics ``config-height``."""
DEEPSTREAM_TOPIC: Final = "footfall.deepstream.v1"
"""The topic DeepStream publishes to and ``footfall cloud deepstream-bridge`` reads."""
DS_LIB: Final = "/opt/nvidia/deepstream/deepstream/lib"

FILES: Final = ("nvdsanalytics.txt", "msgconv.txt", "cfg_kafka.txt", "deepstream_app.txt")


class DeepStreamConfigError(UserError, ValueError):
    """The cameras asked for cannot be configured."""


@dataclass(frozen=True)
class StreamPlan:
    """What one stream (camera) of the node gets: its lines and zone parts in image pixels."""

    index: int
    view: CameraView
    lines: tuple[ImageLine, ...]
    zones: tuple[ImageZone, ...]

    @property
    def camera(self) -> Camera:
        return self.view.camera


def plan(site: Site, camera_ids: Sequence[str]) -> list[StreamPlan]:
    """Each camera asked for (in order: stream 0, 1 …) with what it sees of lines and zones."""
    if not camera_ids:
        raise DeepStreamConfigError("name at least one camera with --camera ID")
    if len(set(camera_ids)) != len(camera_ids):
        raise DeepStreamConfigError("a camera is named twice; name each camera once")
    out = []
    for index, camera_id in enumerate(camera_ids):
        try:
            camera = site.camera(camera_id)
        except KeyError as exc:
            known = ", ".join(c.id for c in site.cameras)
            raise DeepStreamConfigError(
                f"site '{site.id}' has {exc.args[0]}; its cameras are: {known}"
            ) from None
        view = CameraView(camera)
        lines = tuple(v for line in site.lines if (v := view.line(line)) is not None)
        zones = tuple(part for zone in site.zones for part in view.zone(zone))
        out.append(StreamPlan(index, view, lines, zones))
    return out


def to_config_space(p: tuple[float, float], size: tuple[int, int]) -> tuple[int, int]:
    """Image pixels → nvdsanalytics config coordinates (integers)."""
    return (round(p[0] * CONFIG_WIDTH / size[0]), round(p[1] * CONFIG_HEIGHT / size[1]))


def from_config_space(p: tuple[float, float], size: tuple[int, int]) -> tuple[float, float]:
    """nvdsanalytics config coordinates → image pixels of a frame of ``size``."""
    return (p[0] * size[0] / CONFIG_WIDTH, p[1] * size[1] / CONFIG_HEIGHT)


def _coords(points: Sequence[tuple[float, float]], size: tuple[int, int]) -> str:
    return ";".join(f"{x};{y}" for x, y in (to_config_space(p, size) for p in points))


def zone_label(part: ImageZone) -> str:
    return part.zone.id if part.part == 0 else f"{part.zone.id}-{part.part + 1}"


def overcrowding_threshold(part: ImageZone, people_per_m2: float) -> int:
    """More than this many people in the zone part is overcrowding."""
    return max(1, math.ceil(part.area_m2 * people_per_m2))


def nvdsanalytics_config(plans: Sequence[StreamPlan], people_per_m2: float = 1.0) -> str:
    """The Gst-nvdsanalytics configuration (lines, ROIs, overcrowding) of the streams."""
    out = [
        "# Written by `footfall deepstream config` from the site model: do not edit by hand,",
        "# regenerate after a line or zone is redrawn. Coordinates: image of each stream through",
        "# the inverse floor homography, in a config-width x config-height space.",
        "[property]",
        "enable=1",
        f"config-width={CONFIG_WIDTH}",
        f"config-height={CONFIG_HEIGHT}",
        "osd-mode=2",
        "display-font-size=12",
        "",
    ]
    for p in plans:
        size = p.view.size
        out.append(f"# stream {p.index}: camera {p.camera.id} ({size[0]}x{size[1]})")
        if p.zones:
            out += [f"[roi-filtering-stream-{p.index}]", "enable=1"]
            out += [f"roi-{zone_label(z)}={_coords(z.polygon_px, size)}" for z in p.zones]
            out += ["inverse-roi=0", "class-id=-1", ""]
            # One overcrowding group per stream holds one threshold: the smallest part's.
            threshold = min(overcrowding_threshold(z, people_per_m2) for z in p.zones)
            out += [f"[overcrowding-stream-{p.index}]", "enable=1"]
            out += [f"roi-{zone_label(z)}={_coords(z.polygon_px, size)}" for z in p.zones]
            out += [f"object-threshold={threshold}", "class-id=-1", ""]
        if p.lines:
            out += [f"[line-crossing-stream-{p.index}]", "enable=1"]
            for li in p.lines:
                across = _coords([li.in_from_px, li.in_to_px], size)
                back = _coords([li.in_to_px, li.in_from_px], size)
                segment = _coords([li.a_px, li.b_px], size)
                out.append(f"line-crossing-{li.line.id}-in={across};{segment}")
                out.append(f"line-crossing-{li.line.id}-out={back};{segment}")
            out += ["class-id=-1", "extended=0", "mode=balanced", ""]
    return "\n".join(out).rstrip() + "\n"


def msgconv_config(site: Site, plans: Sequence[StreamPlan]) -> str:
    """The Gst-nvmsgconv configuration: each stream's sensor id is its camera id."""
    out = ["# Written by `footfall deepstream config`: sensor ids are the site's camera ids."]
    for p in plans:
        cam = p.camera
        xs = [c.floor[0] for c in cam.calibration.points]
        ys = [c.floor[1] for c in cam.calibration.points]
        cx, cy = sum(xs) / len(xs), sum(ys) / len(ys)
        floor = site.floor(cam.floor)
        out += [
            "",
            f"[sensor{p.index}]",
            "enable=1",
            "type=Camera",
            f"id={cam.id}",
            "location=0;0;0",
            f'description="{cam.name or cam.id}"',
            f"coordinate={cx:.2f};{cy:.2f};0",
            "",
            f"[place{p.index}]",
            "enable=1",
            f"id={site.id}",
            "type=mall",
            f'name="{site.site.name}"',
            "location=0;0;0",
            "coordinate=0;0;0",
            f"place-sub-field1={floor.id}",
            f"place-sub-field2={cam.id}",
            f"place-sub-field3={floor.level}",
            "",
            f"[analytics{p.index}]",
            "enable=1",
            "id=footfall",
            'description="people tracks for footfall"',
            "source=DeepStream",
            "version=1.0",
        ]
    return "\n".join(out) + "\n"


def kafka_config() -> str:
    """The Kafka protocol adaptor's configuration: one camera's records on one partition."""
    return "\n".join(
        [
            "# Written by `footfall deepstream config`.",
            "[message-broker]",
            "# Key each record by its sensor (camera): one camera's messages stay in order.",
            "# sensorId for the minimal schema and protobuf; sensor.id for the full schema.",
            "partition-key = sensorId",
            "",
        ]
    )


def deepstream_app_config(
    site: Site,
    plans: Sequence[StreamPlan],
    kafka: str,
    topic: str,
    mux_size: tuple[int, int],
) -> str:
    """A deepstream-app skeleton: sources, detector and tracker to fill in, analytics, Kafka."""
    host, _, port = kafka.rpartition(":")
    if not host or not port.isdigit():
        raise DeepStreamConfigError(
            f"--kafka {kafka!r} is not HOST:PORT; give the broker address the DeepStream node "
            "reaches, e.g. --kafka broker.example:9092"
        )
    live = any(p.camera.is_stream for p in plans)
    out = [
        f"# deepstream-app skeleton for site '{site.id}', written by `footfall deepstream config`.",
        "# Fill in the detector ([primary-gie] config-file) and the tracker's configuration;",
        "# run `footfall cloud deepstream-bridge` on the cloud side to turn the messages into",
        "# footfall's contract.",
        "[application]",
        "enable-perf-measurement=1",
        "perf-measurement-interval-sec=10",
        "",
        "[tiled-display]",
        "enable=0",
    ]
    for p in plans:
        cam = p.camera
        uri = cam.source if cam.is_stream else Path(cam.source).absolute().as_uri()
        out += [
            "",
            f"# stream {p.index}: camera {cam.id}",
            f"[source{p.index}]",
            "enable=1",
            f"type={4 if cam.is_stream else 3}",
            f"uri={uri}",
            "num-sources=1",
            "gpu-id=0",
            "cudadec-memtype=0",
        ]
    out += [
        "",
        "[streammux]",
        "gpu-id=0",
        f"live-source={int(live)}",
        f"batch-size={len(plans)}",
        "batched-push-timeout=40000",
        f"width={mux_size[0]}",
        f"height={mux_size[1]}",
        "# No padding: nvdsanalytics scales its coordinates to the whole frame.",
        "enable-padding=0",
        "",
        "[primary-gie]",
        "enable=1",
        "gpu-id=0",
        "gie-unique-id=1",
        "# A person detector of your choice (e.g. PeopleNet); its label for people must be Person.",
        "config-file=config_infer_primary.txt",
        "",
        "[tracker]",
        "enable=1",
        "tracker-width=960",
        "tracker-height=544",
        "gpu-id=0",
        f"ll-lib-file={DS_LIB}/libnvds_nvmultiobjecttracker.so",
        "ll-config-file=config_tracker_NvDCF_perf.yml",
        "",
        "[nvds-analytics]",
        "enable=1",
        "config-file=nvdsanalytics.txt",
        "",
        "[osd]",
        "enable=0",
        "",
        "# Message converter + broker: the minimal schema from frame metadata (every frame,",
        "# all its objects in one message), to Kafka.",
        "[sink0]",
        "enable=1",
        "type=6",
        "msg-conv-config=msgconv.txt",
        "msg-conv-payload-type=1",
        "msg-conv-msg2p-new-api=1",
        "msg-conv-frame-interval=1",
        f"msg-broker-proto-lib={DS_LIB}/libnvds_kafka_proto.so",
        f"msg-broker-conn-str={host};{port};{topic}",
        f"topic={topic}",
        "msg-broker-config=cfg_kafka.txt",
        "",
        "[sink1]",
        "enable=1",
        "type=1",
        "sync=0",
    ]
    return "\n".join(out) + "\n"


def write_configs(
    site: Site,
    camera_ids: Sequence[str],
    out_dir: Path,
    kafka: str,
    topic: str = DEEPSTREAM_TOPIC,
    mux_size: tuple[int, int] = (1920, 1080),
    people_per_m2: float = 1.0,
) -> tuple[list[Path], list[StreamPlan]]:
    """Write the four files into ``out_dir``; return their paths and the streams' plans."""
    plans = plan(site, camera_ids)
    texts = {
        "nvdsanalytics.txt": nvdsanalytics_config(plans, people_per_m2),
        "msgconv.txt": msgconv_config(site, plans),
        "cfg_kafka.txt": kafka_config(),
        "deepstream_app.txt": deepstream_app_config(site, plans, kafka, topic, mux_size),
    }
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        paths = []
        for name in FILES:
            path = out_dir / name
            path.write_text(texts[name], encoding="utf-8")
            paths.append(path)
    except OSError as exc:
        raise DeepStreamConfigError(
            f"cannot write the DeepStream files into {out_dir}: {exc.strerror}; pass a writable "
            "folder with --out"
        ) from None
    return paths, plans
