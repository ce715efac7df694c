"""End to end: footage → ``footfall edge run`` → broker → ``footfall cloud ingest`` →
TimescaleDB → ``footfall cloud api``, and the API's counts against the ground truth.

Every part is the real program, run as a child process exactly as an operator would run it (so
this package never imports the cloud service, and the edge never imports the cloud). Unless an
existing database and broker are given, a local test-profile stack (TimescaleDB + the in-memory
Tansu broker, loopback only, free ports) is started under the work folder and stopped at the
end, with a scratch database of its own (dropped at the end).

The true counts are the site's lines and zones applied to the ground-truth tracks (feet through
the camera's homography) with the site's counting rules; "offline" are the same applied to
the in-process replay of the same frames (:mod:`.runner`), so a difference between offline and
API isolates the transport and the cloud.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from footfall.errors import UserError
from footfall.evaluation.counting import compare, trajectories
from footfall.evaluation.manifest import Manifest
from footfall.evaluation.runner import Results, build_config, floor_points, site_camera

NODE_ID = "eval-node"


class EndToEndError(UserError, RuntimeError):
    """A part of the chain failed; ``str()`` is one sentence naming it and where its log is."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _footfall(args: list[str], log_file: Path, *, timeout_s: float = 900) -> str:
    """Run ``footfall ARGS`` in a child process; stdout is returned, stderr goes to the log."""
    command = [sys.executable, "-m", "footfall.cli", *args]
    with log_file.open("a") as log:
        log.write(f"$ footfall {' '.join(args)}\n")
        log.flush()
        try:
            done = subprocess.run(
                command, stdout=subprocess.PIPE, stderr=log, text=True, timeout=timeout_s,
                check=False,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            raise EndToEndError(
                f"`footfall {args[0]} {args[1]}` did not finish in {timeout_s:.0f} s; see "
                f"{log_file}."
            ) from None
    if done.returncode != 0:
        raise EndToEndError(
            f"`footfall {args[0]} {args[1]}` failed (exit {done.returncode}); see {log_file}."
        )
    return done.stdout


class EndToEndRunner:
    """The manifest's ``end_to_end`` part; call it with the manifest and the offline results."""

    def __init__(
        self, work_dir: Path, database_url: str | None = None, bootstrap: str | None = None
    ) -> None:
        self.work_dir = work_dir
        self.database_url = database_url
        self.bootstrap = bootstrap

    def __call__(self, manifest: Manifest, results: Results) -> dict[str, Any]:
        from footfall.evaluation.scratch import scratch_database
        from footfall.stack import StackError, profile_for, stack_down, stack_up

        self.work_dir.mkdir(parents=True, exist_ok=True)
        if self.database_url is not None and self.bootstrap is not None:
            return self._run(manifest, results, self.database_url, self.bootstrap)
        profile = profile_for(
            "test",
            root=self.work_dir / "stack",
            pg_port=_free_port(),
            broker_port=_free_port(),
            s3_port=_free_port(),
        )
        print(f"end to end: starting a local test stack under {profile.run_dir}", flush=True)
        try:
            stack_down(profile)
            stack_up(profile, timeout_s=120)
            with scratch_database(profile.database_url, "eval") as url:
                return self._run(manifest, results, url, profile.bootstrap_servers)
        except StackError as exc:
            raise EndToEndError(str(exc)) from None
        finally:
            stack_down(profile)

    def _run(
        self, manifest: Manifest, results: Results, database_url: str, bootstrap: str
    ) -> dict[str, Any]:
        e2e = manifest.end_to_end
        assert e2e is not None
        entry = manifest.config(e2e.config)
        config = build_config(manifest, entry)
        config_file = self.work_dir / "edge-config.yaml"
        config_file.write_text(yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False))
        site_file = str(manifest.path(e2e.site))
        log_file = self.work_dir / "end-to-end.log"
        log_file.write_text("")
        spool = self.work_dir / "spool"
        shutil.rmtree(spool, ignore_errors=True)
        cameras = [a for c in e2e.cameras for a in ("--camera", c)]
        frames = ["--max-frames", str(e2e.max_frames)] if e2e.max_frames else []

        started = time.perf_counter()
        t0 = datetime.now(UTC)
        print(f"end to end: edge run ({', '.join(e2e.cameras)}) → broker {bootstrap}", flush=True)
        _footfall(
            ["edge", "run", "--site", site_file, "--node", NODE_ID, "--config", str(config_file),
             *cameras, "--sink", "kafka", "--bootstrap-servers", bootstrap, "--spool-dir",
             str(spool), "--fast", *frames],
            log_file,
        )  # fmt: skip
        edge_s = time.perf_counter() - started
        print("end to end: cloud ingest → TimescaleDB", flush=True)
        _footfall(
            ["cloud", "ingest", "--database-url", database_url, "--bootstrap-servers", bootstrap,
             "--site", site_file, "--idle-exit-s", "8", "--group-id",
             f"eval-{uuid.uuid4().hex[:8]}"],
            log_file,
        )  # fmt: skip
        ingest_s = time.perf_counter() - started - edge_s
        site_id = _site_id(manifest, e2e.cameras[0])
        key = _footfall(
            ["cloud", "apikey", "create", "--database-url", database_url, "--site", site_id,
             "--name", "eval"],
            log_file,
        ).strip().splitlines()[-1]  # fmt: skip
        window = (t0 - timedelta(minutes=5), datetime.now(UTC) + timedelta(hours=1))
        print("end to end: cloud api → counts", flush=True)
        api = _query_api(site_file, database_url, site_id, key, window, log_file)
        measured = _truth_and_offline(manifest, results, entry.name, e2e.max_frames)
        return _merge(measured, api) | {
            "config": entry.name,
            "cameras": e2e.cameras,
            "max_frames": e2e.max_frames,
            "summary": (
                f"Cameras {', '.join(e2e.cameras)} of {e2e.site} (config {entry.name}, "
                f"{'first ' + str(e2e.max_frames) if e2e.max_frames else 'all'} frames) through "
                "`footfall edge run --sink kafka` into the broker, `footfall cloud ingest` into "
                "TimescaleDB and `footfall cloud api`; counts read from /footfall and /dwell. "
                "True: the site's lines and zones over the ground-truth tracks; edge offline: "
                "the same over the in-process replay of the same frames."
            ),
            "timing": f"edge run {edge_s:.0f} s, ingest {ingest_s:.0f} s (includes an 8 s idle "
            f"wait), end to end {time.perf_counter() - started:.0f} s.",
        }


def _site_id(manifest: Manifest, camera: str) -> str:
    for seq in manifest.sequences:
        if seq.camera == camera:
            found = site_camera(manifest, seq)
            assert found is not None
            return found[0].site.id
    raise EndToEndError(f"No sequence has camera {camera!r}.")


def _query_api(
    site_file: str,
    database_url: str,
    site_id: str,
    key: str,
    window: tuple[datetime, datetime],
    log_file: Path,
) -> dict[str, Any]:
    port = _free_port()
    command = [sys.executable, "-m", "footfall.cli", "cloud", "api", "--database-url",
               database_url, "--site", site_file, "--port", str(port)]  # fmt: skip
    with log_file.open("a") as log:
        server = subprocess.Popen(command, stdout=log, stderr=log)
    try:
        deadline = time.monotonic() + 60
        params = urllib.parse.urlencode(
            {"from": window[0].isoformat(), "to": window[1].isoformat(), "bucket": "1d"}
        )
        out: dict[str, Any] = {}
        for name in ("footfall", "dwell"):
            url = f"http://127.0.0.1:{port}/v1/sites/{site_id}/{name}?{params}"
            request = urllib.request.Request(url, headers={"X-API-Key": key})
            while True:
                try:
                    with urllib.request.urlopen(request, timeout=10) as response:
                        out[name] = json.loads(response.read())["rows"]
                    break
                except OSError as exc:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise EndToEndError(
                            f"The API at 127.0.0.1:{port} did not answer /{name} ({exc}); see "
                            f"{log_file}."
                        ) from None
                    time.sleep(0.5)
        return out
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


def _truth_and_offline(
    manifest: Manifest, results: Results, config_name: str, max_frames: int | None
) -> dict[str, Any]:
    """Per line and zone of the site: true and offline-system counts over the cameras."""
    from edge.evaluate import load_mot

    e2e = manifest.end_to_end
    assert e2e is not None
    lines: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    zones: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for camera_id in e2e.cameras:
        seq = next(s for s in manifest.sequences if s.camera == camera_id and s.source)
        found = site_camera(manifest, seq)
        assert found is not None
        site, camera = found
        rules = site.counting
        fps = manifest.sequence_fps(seq)
        run = next(
            (r for r in results.runs if r["sequence"] == seq.name and r["config"] == config_name),
            None,
        )
        if run is None:
            raise EndToEndError(
                f"End to end needs the offline run of {seq.name} with config {config_name}; "
                "keep that sequence and config in the manifest."
            )
        limit = max_frames or run["frames"]
        gt = load_mot(manifest.path(seq.gt), ground_truth=True)
        gt = gt[gt[:, 0] <= limit]
        hyp = load_mot(Path(run["mot_file"]))
        hyp = hyp[hyp[:, 0] <= limit]
        true_t = trajectories(gt, fps, floor_points(camera, gt), camera.floor)
        sys_t = trajectories(hyp, fps, floor_points(camera, hyp), camera.floor)
        site_lines = [ln for ln in site.lines if ln.floor == camera.floor]
        site_zones = [z for z in site.zones if z.floor == camera.floor]
        result = compare(true_t, sys_t, site_lines, site_zones, rules, "floor")
        for c in result.lines:
            for k, v in (
                ("true_in", c.true_in),
                ("true_out", c.true_out),
                ("offline_in", c.system_in),
                ("offline_out", c.system_out),
            ):
                lines[c.line_id][k] += v
        for z in result.zones:
            zones[z.zone_id]["true"] += z.true_dwell_s
            zones[z.zone_id]["offline"] += z.system_dwell_s
    return {"lines": lines, "zones": zones}


def _merge(measured: dict[str, Any], api: dict[str, Any]) -> dict[str, Any]:
    api_lines: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row in api.get("footfall", []):
        api_lines[row["line_id"]]["in"] += int(row["ins"])
        api_lines[row["line_id"]]["out"] += int(row["outs"])
    api_zones = {row["zone_id"]: row for row in api.get("dwell", [])}
    lines = []
    for line_id in sorted(set(measured["lines"]) | set(api_lines)):
        m, a = measured["lines"].get(line_id, {}), api_lines.get(line_id, {})
        row = {
            "line_id": line_id,
            "true_in": m.get("true_in", 0),
            "true_out": m.get("true_out", 0),
            "offline_in": m.get("offline_in", 0),
            "offline_out": m.get("offline_out", 0),
            "api_in": a.get("in", 0),
            "api_out": a.get("out", 0),
        }
        row["api_error"] = row["api_in"] + row["api_out"] - row["true_in"] - row["true_out"]
        if any(v for k, v in row.items() if k != "line_id" and k != "api_error"):
            lines.append(row)
    zones = []
    for zone_id in sorted(set(measured["zones"]) | set(api_zones)):
        m = measured["zones"].get(zone_id, {})
        a = api_zones.get(zone_id, {})
        true, offline = m.get("true", []), m.get("offline", [])
        row = {
            "zone_id": zone_id,
            "true_visits": len(true),
            "offline_visits": len(offline),
            "api_visits": int(a.get("visits", 0)),
            "true_mean_dwell_s": float(np.mean(true)) if true else None,
            "offline_mean_dwell_s": float(np.mean(offline)) if offline else None,
            "api_mean_dwell_s": float(a["mean_s"]) if a.get("mean_s") is not None else None,
        }
        if row["true_visits"] or row["offline_visits"] or row["api_visits"]:
            zones.append(row)
    return {
        "lines": lines,
        "zones": zones,
        "api_total": sum(r["api_in"] + r["api_out"] for r in lines),
        "true_total": sum(r["true_in"] + r["true_out"] for r in lines),
        "offline_total": sum(r["offline_in"] + r["offline_out"] for r in lines),
    }
