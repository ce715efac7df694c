"""The set-up page's small HTTP server (standard library), run on the edge node.

``GET /`` and ``/static/*``: the page. JSON API (bodies and answers are JSON; a user error is
``400 {"error": sentence}``):

* ``GET /api/site``: the site being set up (plain YAML data) and where Save writes it;
* ``GET /api/floors/{id}/plan``: a floor-plan image;
* ``POST /api/snapshot`` ``{camera, frame, distortion}``: a frame with heads blurred (a JPEG
  data URL) and the feet of the people in it (undistorted pixels);
* ``POST /api/fit`` ``{camera, points, feet_px, max_error_m}``: reprojection errors, field of
  view and the feet on the floor (:func:`edge.setup.fitting.fit_report`);
* ``POST /api/calibration`` ``{camera, calibration, view, unit_m, offset}``: the camera's point
  pairs and distortion from an OpenCV calibration (``footfall site from-calibration``'s);
* ``POST /api/save`` ``{data}``: write the site YAML if validate-config accepts it.

Frames never leave this server except as blurred snapshots to the page; it listens on the
loopback address unless told otherwise.
"""

from __future__ import annotations

import base64
import json
import logging
import mimetypes
import threading
from collections.abc import Callable
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from pydantic import ValidationError

from edge.setup.draft import SiteDraft
from edge.setup.fitting import fit_report
from edge.setup.snapshot import PeopleDetector, take_snapshot
from footfall.errors import UserError
from footfall.site import Distortion
from footfall.site.calibration import CalibrationError, OpenCvCalibration, camera_fields
from footfall.site.homography import MAX_MEAN_ERROR_M
from footfall.site.zone import ZoneKind

log = logging.getLogger(__name__)

STATIC_FILES = ("index.html", "setup.js", "setup.css")
MAX_BODY_BYTES = 8 * 1024 * 1024


class RequestError(UserError, ValueError):
    """A request the page sent cannot be answered; ``str()`` says why (answered as 400)."""


def _static(name: str) -> bytes:
    return (resources.files("edge.setup") / "static" / name).read_bytes()


def _number_pair(value: Any, what: str) -> tuple[float, float]:
    if (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        return float(value[0]), float(value[1])
    raise RequestError(f"{what} must be two numbers [a, b].")


def _distortion(value: Any) -> Distortion | None:
    if value is None:
        return None
    try:
        return Distortion.model_validate(value)
    except ValidationError as exc:
        message = exc.errors()[0]["msg"]
        raise RequestError(f"The camera's distortion is not valid: {message}.") from None


class SetupApp:
    """The API behind the page: one site draft and a person detector made on first use."""

    def __init__(
        self,
        draft: SiteDraft,
        detector_factory: Callable[[], PeopleDetector] | None,
        head_fraction: float = 0.2,
    ) -> None:
        self.draft = draft
        self._detector_factory = detector_factory
        self._detector: PeopleDetector | None = None
        self._lock = threading.Lock()
        self.head_fraction = head_fraction

    # ------------------------------------------------------------------ helpers
    def _camera_geometry(self, camera_id: Any) -> tuple[dict[str, Any], tuple[int, int], float]:
        if not isinstance(camera_id, str):
            raise RequestError("Say which camera: camera must be its id.")
        camera = self.draft.camera(camera_id)
        width, height = _number_pair(camera.get("resolution"), f"camera {camera_id}'s resolution")
        fps = camera.get("fps")
        if not isinstance(fps, int | float) or fps <= 0:
            raise RequestError(f"Camera {camera_id} has no valid fps in the site file.")
        return camera, (int(width), int(height)), float(fps)

    def _floor_size(self, floor_id: Any) -> tuple[float, float]:
        floor = self.draft.floor(str(floor_id))
        return _number_pair(
            [floor.get("width_m"), floor.get("depth_m")], f"floor {floor_id}'s width_m, depth_m"
        )

    # ------------------------------------------------------------------ endpoints
    def site(self) -> dict[str, Any]:
        kinds = [kind.value for kind in ZoneKind]
        return {"file": str(self.draft.out), "data": self.draft.data, "zone_kinds": kinds}

    def plan(self, floor_id: str) -> tuple[bytes, str]:
        plan = self.draft.floor(floor_id).get("plan")
        if not isinstance(plan, dict) or not isinstance(plan.get("image"), str):
            raise RequestError(f"Floor {floor_id} has no plan image.")
        path = Path(self.draft.resolve(plan["image"]))
        try:
            data = path.read_bytes()
        except OSError:
            raise RequestError(
                f"The plan image {path} of floor {floor_id} cannot be read."
            ) from None
        return data, mimetypes.guess_type(path.name)[0] or "application/octet-stream"

    def snapshot(self, body: dict[str, Any]) -> dict[str, Any]:
        camera, resolution, fps = self._camera_geometry(body.get("camera"))
        frame = body.get("frame", 0)
        if not isinstance(frame, int) or frame < 0:
            raise RequestError("frame must be a frame number ≥ 0.")
        source = camera.get("source")
        if not isinstance(source, str):
            raise RequestError(f"Camera {camera['id']} has no source in the site file.")
        with self._lock:  # one detector, one frame at a time
            if self._detector is None and self._detector_factory is not None:
                self._detector = self._detector_factory()
            shot = take_snapshot(
                self.draft.resolve(source),
                camera["id"],
                frame_index=frame,
                detector=self._detector,
                resolution=resolution,
                fps=fps,
                distortion=_distortion(body.get("distortion")),
                head_fraction=self.head_fraction,
            )
        return {
            "image": "data:image/jpeg;base64," + base64.b64encode(shot.jpeg).decode("ascii"),
            "width": shot.width,
            "height": shot.height,
            "frame": frame,
            "pixels": shot.pixels,
            "feet_px": [[round(float(u), 1), round(float(v), 1)] for u, v in shot.feet_px],
        }

    def fit(self, body: dict[str, Any]) -> dict[str, Any]:
        camera, resolution, _ = self._camera_geometry(body.get("camera"))
        raw = body.get("points")
        if not isinstance(raw, list):
            raise RequestError("points must be a list of {image: [u, v], floor: [x, y]}.")
        points = [
            {
                "image": list(_number_pair(p.get("image"), f"point {i + 1}'s image point")),
                "floor": list(_number_pair(p.get("floor"), f"point {i + 1}'s floor point")),
            }
            for i, p in enumerate(raw)
            if isinstance(p, dict)
        ]
        feet = [_number_pair(f, "a foot point") for f in body.get("feet_px") or []]
        limit = body.get("max_error_m") or MAX_MEAN_ERROR_M
        if not isinstance(limit, int | float) or limit <= 0:
            raise RequestError("max_error_m must be a positive number of metres.")
        return fit_report(
            points,
            resolution=resolution,
            floor_size_m=self._floor_size(camera.get("floor")),
            feet_px=feet,
            max_error_m=float(limit),
        )

    def calibration(self, body: dict[str, Any]) -> dict[str, Any]:
        camera, resolution, _ = self._camera_geometry(body.get("camera"))
        views = body.get("calibration")
        view = body.get("view")
        if not isinstance(views, dict) or not isinstance(view, str) or view not in views:
            names = ", ".join(sorted(views)) if isinstance(views, dict) else "none"
            raise RequestError(f"The calibration has no view {view!r}; its views: {names}.")
        unit = body.get("unit_m", 1.0)
        if not isinstance(unit, int | float) or unit <= 0:
            raise RequestError("unit_m must be the metres per world unit (0.001 for mm).")
        offset = _number_pair(body.get("offset", [0, 0]), "offset")
        try:
            fields = camera_fields(
                OpenCvCalibration.of(views[view], view),
                resolution,
                unit_m=float(unit),
                offset_m=offset,
                floor_size_m=self._floor_size(camera.get("floor")),
            )
        except CalibrationError as exc:
            raise RequestError(str(exc)) from None
        return {"homography": fields["homography"], "distortion": fields.get("distortion")}

    def save(self, body: dict[str, Any]) -> dict[str, Any]:
        data = body.get("data")
        if not isinstance(data, dict):
            raise RequestError("data must be the whole site (a mapping).")
        result = self.draft.save(data)
        return {
            "ok": result.ok,
            "file": result.file,
            "summary": result.summary,
            "problems": list(result.problems),
        }


class _Handler(BaseHTTPRequestHandler):
    app: SetupApp
    server_version = "footfall-setup"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, payload: Any) -> None:
        self._send(status, json.dumps(payload).encode("utf-8"), "application/json")

    def _answer(self, produce: Callable[[], Any]) -> None:
        try:
            self._json(HTTPStatus.OK, produce())
        except UserError as exc:
            self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
        except Exception as exc:  # a bug: log it, tell the page in one line
            log.exception("set-up request failed")
            self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"internal error: {exc}"})

    def do_GET(self) -> None:
        path = unquote(urlsplit(self.path).path)
        if path in ("/", "/index.html"):
            self._send(HTTPStatus.OK, _static("index.html"), "text/html; charset=utf-8")
        elif path.startswith("/static/") and path.removeprefix("/static/") in STATIC_FILES:
            name = path.removeprefix("/static/")
            kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
            self._send(HTTPStatus.OK, _static(name), f"{kind}; charset=utf-8")
        elif path == "/favicon.ico":
            self._send(HTTPStatus.NO_CONTENT, b"", "image/x-icon")
        elif path == "/api/site":
            self._answer(self.app.site)
        elif path.startswith("/api/floors/") and path.endswith("/plan"):
            floor_id = path.removeprefix("/api/floors/").removesuffix("/plan")
            try:
                data, kind = self.app.plan(floor_id)
            except UserError as exc:
                self._json(HTTPStatus.NOT_FOUND, {"error": str(exc)})
            else:
                self._send(HTTPStatus.OK, data, kind)
        else:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no page {path}"})

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        endpoints: dict[str, Callable[[dict[str, Any]], Any]] = {
            "/api/snapshot": self.app.snapshot,
            "/api/fit": self.app.fit,
            "/api/calibration": self.app.calibration,
            "/api/save": self.app.save,
        }
        endpoint = endpoints.get(path)
        if endpoint is None:
            self._json(HTTPStatus.NOT_FOUND, {"error": f"no endpoint {path}"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._json(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "request too large"})
            return
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except json.JSONDecodeError:
            self._json(HTTPStatus.BAD_REQUEST, {"error": "the request body is not JSON"})
            return
        if not isinstance(body, dict):
            self._json(HTTPStatus.BAD_REQUEST, {"error": "the request body must be an object"})
            return
        self._answer(lambda: endpoint(body))


def make_server(app: SetupApp, host: str = "127.0.0.1", port: int = 8765) -> ThreadingHTTPServer:
    """A threaded HTTP server for ``app`` (not started: call ``serve_forever``)."""
    handler = type("SetupHandler", (_Handler,), {"app": app})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server
