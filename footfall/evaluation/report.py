"""Writes an evaluation's results: ``report.md``, ``report.html`` (plots embedded), plots as PNG
files, and ``metrics.json`` (every figure, for scripts and for comparing runs).

The report is a list of blocks (headings, paragraphs, tables, figures) rendered twice, as
Markdown and as standalone HTML, so both always say the same.
"""

from __future__ import annotations

import base64
import html
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cloud.stitch.visitors import MIN_VISITOR_S
from footfall.evaluation.runner import Results

Cell = str | int | float | None


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 2


@dataclass(frozen=True)
class Para:
    text: str


@dataclass(frozen=True)
class Code:
    text: str


@dataclass(frozen=True)
class Table:
    headers: Sequence[str]
    rows: Sequence[Sequence[Cell]]


@dataclass(frozen=True)
class Figure:
    file: str
    caption: str


Block = Heading | Para | Code | Table | Figure


def fmt(value: Cell, digits: int = 3) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def signed(value: float | int | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, int):
        return f"{value:+d}"
    return f"{value:+.{digits}f}"


# --------------------------------------------------------------------------- content


def _speed_sentence(results: Results) -> str:
    """What the frames/s of this report's tables time: they differ by kind of run."""
    parts = []
    if results.runs:
        parts.append(
            "of the tracking runs are the whole pipeline (decode, detect, Re-ID, track, "
            "floor projection)"
        )
    if results.crowd:
        parts.append("of the crowd count are image decoding and the detector, tiles included")
    if results.detection:
        parts.append("of the detection runs are the detector alone, tiles included")
    if not parts:
        return ""
    return (
        "Frames per second " + "; those ".join(parts) + ", on this machine, one camera at a time."
    )


def blocks(results: Results) -> list[Block]:
    out: list[Block] = [Heading(f"Replay evaluation: {results.manifest}", 1)]
    if results.description:
        out.append(Para(results.description.strip()))
    out += [Para("Regenerate this report with:"), Code(results.command)]
    env = results.environment
    out.append(
        Para(
            f"Measured on {env.get('cpus')} CPU cores ({env.get('machine')}, Python "
            f"{env.get('python')}); generated {env.get('generated_at', '')}. "
            + _speed_sentence(results)
        )
    )
    out += _configs(results) + _sequences(results) + _tracking(results) + _detection(results)
    out += _counting(results) + _crowd(results) + _crowd_distance(results)
    out += _crowd_detection(results)
    out += _multi_camera(results)
    out += _end_to_end(results) + _method()
    return out


def _configs(results: Results) -> list[Block]:
    rows = [[c["name"], c["file"] or "(built-in defaults)", _set(c["set"]), c["summary"]]
            for c in results.configs]  # fmt: skip
    return [
        Heading("Configurations"),
        Table(["config", "file", "overrides", "in short"], rows),
    ]


def _set(values: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items()) or "–"


def _sequences(results: Results) -> list[Block]:
    rows = []
    for s in results.sequences:
        footage = "yes" if s["footage"] else "no: ground truth only"
        rows.append(
            [s["name"], footage, s["gt_frames"], fmt(s["fps"], 0), s["gt_ids"], s["gt_boxes"],
             s["site_camera"] or "–", s["note"] or ""]
        )  # fmt: skip
    gt_only = [s["name"] for s in results.sequences if not s["footage"]]
    out: list[Block] = [
        Heading("Sequences"),
        Table(
            ["sequence", "footage", "frames", "fps", "GT ids", "GT boxes", "site camera", "note"],
            rows,
        ),
    ]
    if gt_only:
        out.append(
            Para(
                f"{len(gt_only)} sequences ({', '.join(gt_only)}) have ground truth in "
                "../shared/data but neither video nor img1/ frames, so they cannot be replayed; "
                "their ground-truth figures are listed above and they are evaluated as soon as "
                "their frames are placed beside gt/ (img1/ or a video) and `source:` is set."
            )
        )
    return out


def _tracking(results: Results) -> list[Block]:
    if not results.runs:
        return []
    rows = []
    for r in results.runs:
        t = r["tracking"]
        rows.append(
            [r["sequence"], r["config"], r["frames"], fmt(t["hota"]), fmt(t["deta"]),
             fmt(t["assa"]), fmt(t["idf1"]), fmt(t["mota"]), fmt(t["precision"]),
             fmt(t["recall"]), t["id_switches"], t["false_positives"], t["misses"],
             f"{t['predicted_ids']} ({t['gt_ids']})", fmt(r["fps"], 1)]
        )  # fmt: skip
    out: list[Block] = [
        Heading("Tracking accuracy"),
        Para(
            "HOTA, DetA, AssA: averaged over IoU thresholds 0.05 … 0.95; IDF1, MOTA, precision "
            "and recall of the detections (CLEAR), id switches (IDsw), false positives and misses: "
            "at IoU ≥ 0.5. ids: distinct track ids the system produced (ground-truth ids)."
        ),
        Table(
            [
                "sequence",
                "config",
                "frames",
                "HOTA",
                "DetA",
                "AssA",
                "IDF1",
                "MOTA",
                "precision",
                "recall",
                "IDsw",
                "FP",
                "FN",
                "ids (GT)",
                "fps",
            ],
            rows,
        ),
    ]
    configs = [c["name"] for c in results.configs]
    if len(configs) > 1:
        by = {(r["sequence"], r["config"]): r for r in results.runs}
        seqs = list(dict.fromkeys(r["sequence"] for r in results.runs))
        side = []
        for s in seqs:
            cells: list[Cell] = [s]
            for c in configs:
                t = by[(s, c)]["tracking"] if (s, c) in by else None
                cells.append(
                    "–" if t is None else f"{t['hota']:.3f} / {t['idf1']:.3f} / {t['mota']:.3f}"
                )
            side.append(cells)
        mean: list[Cell] = ["mean"]
        for c in configs:
            runs = [r["tracking"] for r in results.runs if r["config"] == c]
            means = [sum(t[k] for t in runs) / len(runs) for k in ("hota", "idf1", "mota")]
            mean.append(" / ".join(f"{m:.3f}" for m in means) if runs else "–")
        side.append(mean)
        fps_row: list[Cell] = ["fps (mean)"]
        for c in configs:
            runs = [r for r in results.runs if r["config"] == c]
            fps_row.append(fmt(sum(r["fps"] for r in runs) / len(runs), 1) if runs else "–")
        side.append(fps_row)
        out += [
            Heading("Configurations side by side", 3),
            Para("Each cell: HOTA / IDF1 / MOTA."),
            Table(["sequence", *configs], side),
        ]
    out += [
        Figure("plots/tracking.png", "HOTA, IDF1 and MOTA per sequence and configuration."),
        Figure("plots/hota_alpha.png", "HOTA and DetA against the IoU threshold α."),
    ]
    return out


def _band_cells(d: dict[str, Any]) -> list[Cell]:
    cells: list[Cell] = []
    for name in ("small", "medium", "large"):
        band = d["bands"][name]
        cells.append(
            "–" if band["recall"] is None else f"{band['recall']:.3f} ({band['gt_boxes']})"
        )
    small = d["bands"]["small"]["precision"]
    cells.append(fmt(small))
    return cells


def _detection(results: Results) -> list[Block]:
    """Detection precision / recall per person-height band: the detection-only sweep's
    (``detection_only``) and the replayed tracks' (every run)."""
    rows: list[list[Cell]] = []
    for d in results.detection:
        rows.append(
            [d["sequence"], d["config"], d["detector"]["model"],
             f"{d['frames']} (every {d['stride']})", fmt(d["precision"]), fmt(d["recall"]),
             *_band_cells(d), fmt(d["fps"], 1)]
        )  # fmt: skip
    for r in results.runs:
        if "detection" not in r:
            continue
        d = r["detection"]
        rows.append(
            [r["sequence"], r["config"], "tracks", f"{d['frames']} (every 1)",
             fmt(d["precision"]), fmt(d["recall"]), *_band_cells(d), fmt(r["fps"], 1)]
        )  # fmt: skip
    if not rows:
        return []
    hashes = {d["detector"]["model"]: d["detector"]["sha256"] for d in results.detection}
    text = (
        "Boxes matched one-to-one to the ground truth at IoU ≥ 0.5. Bands by box height as a "
        "fraction of the frame height: small < 1/8, medium 1/8 – 1/4, large > 1/4; band recall "
        "counts the ground-truth boxes of that height (their number in brackets), small "
        "precision the boxes found that small. Detector rows: the detector alone, each camera's "
        "own settings (input size, confidence, ROI, tiles), boxes scoring at least the "
        "tracker's track_high_thresh, fps = the detector's frames per second, one camera at a "
        "time; `tracks` rows: the tracker's output of a full replay."
    )
    out: list[Block] = [Heading("Detection by person height"), Para(text)]
    if hashes:
        out.append(
            Para("Weights: " + "; ".join(f"{m} sha256 {h}" for m, h in sorted(hashes.items())))
        )
    out.append(
        Table(
            [
                "sequence",
                "config",
                "model",
                "frames",
                "precision",
                "recall",
                "small recall",
                "medium recall",
                "large recall",
                "small precision",
                "fps",
            ],
            rows,
        )
    )
    return out


def _crowd_detection(results: Results) -> list[Block]:
    """Heads found per person-height band on a crowd entry (head points, perspective map)."""
    rows: list[list[Cell]] = []
    person_px: set[float] = set()
    for c in results.crowd:
        for kind, d in (c.get("detection") or {}).items():
            person_px.add(d["person_px"])
            cells: list[Cell] = []
            for name in ("small", "medium", "large"):
                band = d["bands"][name]
                cells.append(
                    "–" if band["recall"] is None else f"{band['recall']:.3f} ({band['gt_heads']})"
                )
            low = d["min_score"] or c.get("confidence")
            rows.append(
                [c["name"], c["config"], f"{kind} (≥ {low:g})" if low else kind,
                 fmt(d["precision"]), fmt(d["recall"]), *cells,
                 fmt(d["bands"]["small"]["precision"]), fmt(d["box_over_perspective_height"], 2),
                 fmt(c["fps"], 1)]
            )  # fmt: skip
    if not rows:
        return []
    px = ", ".join(f"{p:g}" for p in sorted(person_px))
    return [
        Heading("Crowd detection by person height", 3),
        Para(
            "Heads found on the crowd frames. A person's height in pixels comes from the "
            f"perspective map: {px} / sqrt(pMapN) at the head (pMapN weighs a pixel by 1 / "
            "height²). A true head is found when it is matched one-to-one (Hungarian, least "
            "distance relative to the person's height) to a box whose upper third contains it "
            "or whose head point (top-centre, 10 % down) is within a fifth of the person's "
            "height of it. Bands as for the boxes: small < 1/8 of the frame height (60 px of "
            "480), medium 1/8 – 1/4, large > 1/4 (their heads in brackets). Recall counts the "
            "annotated heads inside the ROI; precision the boxes counted (head point inside the "
            "ROI), a box that matches no head being wrong; small precision: boxes where the "
            "perspective's person is small. counted: every box the camera's confidence keeps "
            "(those the crowd count counts); trusted: boxes scoring at least the tracker's "
            "track_high_thresh (as in the detection table). box/persp.: median height of the "
            "matched boxes scoring ≥ 0.5 over the perspective's person height (1: the scale "
            "fits). fps as in the crowd count."
        ),
        Table(
            [
                "dataset",
                "config",
                "boxes",
                "precision",
                "recall",
                "small recall",
                "medium recall",
                "large recall",
                "small precision",
                "box/persp.",
                "fps",
            ],
            rows,
        ),
    ]


def _crowd_distance(results: Results) -> list[Block]:
    rows: list[list[Cell]] = []
    for c in results.crowd:
        dist = c.get("distance") or {}
        for band in ("far", "middle", "near"):
            if band not in dist:
                continue
            b = dist[band]
            rows.append(
                [c["name"], c["config"], band, fmt(b["true_mean"], 1), fmt(b["system_mean"], 1),
                 fmt(b["mae"], 2), "–" if b["mape"] is None else f"{100 * b['mape']:.1f} %",
                 signed(b["bias"], 2), fmt(b["found_ratio"])]
            )  # fmt: skip
    if not rows:
        return []
    return [
        Heading("Crowd count by distance", 3),
        Para(
            "The count split by distance from the camera with the dataset's perspective map "
            "(pMapN): far, middle and near thirds of the annotated people inside the ROI. "
            "found/true: the system's people over the true ones in that band (over the frames)."
        ),
        Table(
            [
                "dataset",
                "config",
                "band",
                "true mean",
                "system mean",
                "MAE",
                "MAPE",
                "bias",
                "found/true",
            ],
            rows,
        ),
    ]


def _counting(results: Results) -> list[Block]:
    runs = [r for r in results.runs if r["counting"]]
    if not runs:
        return []
    out: list[Block] = [
        Heading("Counting accuracy"),
        Para(
            "True crossings and visits come from the ground-truth tracks, the system's from its "
            "own tracks on the same frames, both through the counting rules the cloud uses "
            "(`footfall.site.rules`: crossings with hysteresis between sides each established "
            "for a time, visits with a minimum length and a gap). `image`: lines and zones drawn "
            "in pixels on the sequence (manifest); `floor`: the site's lines and zones in metres, "
            "feet projected through the camera's homography, the site's counting rules (default "
            "0.3 m, 0.5 s, 5 s, 2 s). Error = system − true."
        ),
    ]
    line_rows, zone_rows = [], []
    for r in runs:
        for c in r["counting"]:
            for ln in c["lines"]:
                line_rows.append(
                    [r["sequence"], r["config"], c["space"], ln["line_id"],
                     f"{ln['true_in']} / {ln['true_out']}",
                     f"{ln['system_in']} / {ln['system_out']}", signed(ln["error"])]
                )  # fmt: skip
            for z in c["zones"]:
                zone_rows.append(
                    [r["sequence"], r["config"], c["space"], z["zone_id"], z["true_visits"],
                     z["system_visits"], signed(z["visit_error"]), fmt(z["true_mean_dwell_s"], 1),
                     fmt(z["system_mean_dwell_s"], 1), signed(z["mean_dwell_error_s"]),
                     f"{z['true_total_dwell_s']:.0f} / {z['system_total_dwell_s']:.0f}"]
                )  # fmt: skip
    if line_rows:
        out += [
            Heading("Line crossings", 3),
            Table(
                [
                    "sequence",
                    "config",
                    "space",
                    "line",
                    "true in / out",
                    "system in / out",
                    "count error",
                ],
                line_rows,
            ),
        ]
    if zone_rows:
        out += [
            Heading("Zone visits and dwell", 3),
            Table(
                [
                    "sequence",
                    "config",
                    "space",
                    "zone",
                    "true visits",
                    "system visits",
                    "visit error",
                    "true mean dwell s",
                    "system mean dwell s",
                    "dwell error s",
                    "person-seconds true / system",
                ],
                zone_rows,
            ),
        ]
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in runs:
        for c in r["counting"]:
            key = r["config"]
            totals[key][0] += sum(abs(ln["error"]) for ln in c["lines"])
            totals[key][1] += sum(ln["true_in"] + ln["true_out"] for ln in c["lines"])
    out.append(
        Table(
            ["config", "Σ abs(count error) over lines", "Σ true crossings"],
            [[k, v[0], v[1]] for k, v in totals.items()],
        )
    )
    out.append(Figure("plots/counting.png", "True against system crossings per line."))
    return out


def _crowd(results: Results) -> list[Block]:
    if not results.crowd:
        return []
    by_tracks = any(c.get("counted_by") == "tracks" for c in results.crowd)

    def by_boxes(c: dict[str, Any]) -> list[str]:
        boxes = c.get("by_boxes") or {}
        if not by_tracks:
            return []
        if not boxes:
            return ["boxes", "", ""]
        return [c["counted_by"], f"{100 * boxes['mape']:.1f} %", signed(boxes["bias"], 2)]

    rows = [
        [c["name"], c["config"], f"{c['frames_evaluated']} of {c['frames_available']} "
         f"(every {c['stride']})", fmt(c["mae"], 2), f"{100 * c['mape']:.1f} %",
         signed(c["bias"], 2), fmt(c["true_mean"], 1), fmt(c["system_mean"], 1), fmt(c["fps"], 1),
         *by_boxes(c)]
        for c in results.crowd
    ]  # fmt: skip
    text = (
        "People per frame inside the dataset's region of interest. True: annotated heads "
        "inside the ROI mask. System: the edge detector's people whose head point (box "
        "top-centre, 10 % of the box height down) is inside the mask. MAE and MAPE over the "
        "frames evaluated; bias = mean(system − true). Configurations with the same "
        "detector settings share one run (and one plot)."
    )
    header = [
        "dataset", "config", "frames", "MAE", "MAPE", "bias", "true mean", "system mean", "fps"
    ]  # fmt: skip
    if by_tracks:
        text += (
            " Counted by tracks: the camera's tracker (its configured one: BoT-SORT by "
            "default, or the head linker) runs over every frame up to the last evaluated one, "
            "and a person counts at a frame while their track's first and last sightings span "
            "it, as the cloud's occupancy counts a zone visit; fps then covers every frame "
            "tracked. The MAPE and bias of the same frames' box count are beside it."
        )
        header += ["counted by", "MAPE by boxes", "bias by boxes"]
    out: list[Block] = [Heading("Crowd count"), Para(text), Table(header, rows)]
    for c in results.crowd:
        out.append(
            Figure(f"plots/crowd_{c['name']}_{c['config']}.png", f"{c['name']}: people per frame.")
        )
    return out


def _end_to_end(results: Results) -> list[Block]:
    e2e = results.end_to_end
    if not e2e:
        return []
    out: list[Block] = [
        Heading("End to end: footage → edge → broker → cloud → API"),
        Para(e2e.get("summary", "")),
        Para(
            "With one camera the API's counts equal the offline replay's line by line "
            "(tests/integration/test_eval_end_to_end.py). With several cameras the edge node "
            "detects their frames in one batched call, which ultralytics pads to a common "
            "square size when the frame sizes differ, so detections and tracks can differ "
            "slightly from the one-camera offline replay."
        ),
    ]
    if e2e.get("error"):
        out.append(Para(f"**Failed:** {e2e['error']}"))
        return out
    rows = [
        [ln["line_id"], f"{ln['true_in']} / {ln['true_out']}",
         f"{ln['offline_in']} / {ln['offline_out']}", f"{ln['api_in']} / {ln['api_out']}",
         signed(ln["api_error"])]
        for ln in e2e["lines"]
    ]  # fmt: skip
    out.append(
        Table(["line", "true in / out", "edge offline in / out", "API in / out", "API error"], rows)
    )
    zrows = [
        [z["zone_id"], z["true_visits"], z["offline_visits"], z["api_visits"],
         fmt(z["true_mean_dwell_s"], 1), fmt(z["offline_mean_dwell_s"], 1),
         fmt(z["api_mean_dwell_s"], 1)]
        for z in e2e["zones"]
    ]  # fmt: skip
    if zrows:
        out.append(
            Table(
                [
                    "zone",
                    "true visits",
                    "edge offline visits",
                    "API visits",
                    "true mean dwell s",
                    "offline mean dwell s",
                    "API mean dwell s",
                ],
                zrows,
            )
        )
    out.append(Para(e2e.get("timing", "")))
    return out


def _multi_camera(results: Results) -> list[Block]:
    out: list[Block] = []
    for g in results.multi_camera:
        out += [
            Heading(f"Multi-camera: {g['name']}"),
            Para(
                f"Site {g['site']}: {len(g['cameras'])} time-aligned cameras replayed through the "
                f"edge pipeline (config {g['config']}) into contract messages, stitched across "
                f"the cameras by the cloud's stitcher ({g['tracklets']} tracklets, "
                f"{g['tracklets_with_embedding']} with an appearance embedding). Headline mode: "
                f"{g['headline_mode']} (the cloud's default)."
            ),
        ]
        rows = []
        for c in g["cameras"]:
            t = c["tracking"]
            rows.append(
                [c["camera"], "video" if c["pixels"] else "detection file", c["frames"],
                 fmt(t["hota"]), fmt(t["idf1"]), fmt(t["mota"]), fmt(t["precision"]),
                 fmt(t["recall"]), t["id_switches"], f"{c['tracks']} ({c['gt_ids']})",
                 fmt(c["fps"], 0)]
            )  # fmt: skip
        out.append(
            Table(
                [
                    "camera",
                    "source",
                    "frames",
                    "HOTA",
                    "IDF1",
                    "MOTA",
                    "precision",
                    "recall",
                    "IDsw",
                    "tracks (GT ids)",
                    "fps",
                ],
                rows,
            )
        )
        modes = []
        for mode, m in g["modes"].items():
            modes.append(
                [mode, fmt(m["mtmc_idf1"]), fmt(m["idp"]), fmt(m["idr"]),
                 f"{m['unique_visitors']} ({m['true_visitors']})",
                 m.get("visitors_off_plan", 0),
                 m.get("visitors_held_back", 0),
                 signed(m["unique_visitors"] - m["true_visitors"], 0),
                 f"{m['reentries_recognised']} / {m['reentries']}",
                 m.get("splits_within_visit", "–"),
                 f"{m.get('visitors_joining_people', '–')} "
                 f"({m.get('boxes_in_anothers_visitor', '–')})"]
            )  # fmt: skip
        out += [
            Para(
                "Stitching over global ids, per mode (local: every local track its own "
                "visitor). Unique visitors: stitched visitors seen on the site's floor plan "
                "(off the plan: seen only beyond it) and seen long enough to count (held "
                f"back: made only of fragments seen for less than {MIN_VISITOR_S:g} s in all, "
                "the cloud's rule, cloud.stitch.visitors). MTMC IDF1: system boxes matched to "
                "ground-truth boxes per camera and "
                "frame at IoU ≥ 0.5, the stitched visitor against the person's global id; "
                "missed ground-truth boxes count against it. Re-entries: people unseen by every "
                "camera for 2 s or more who come back, recognised when they get their earlier "
                "visitor id again. Splits: per person and visit (between re-entries), the "
                "stitched visitors beyond the first that a second or more of their boxes "
                "carry (fragments not joined). Joins: stitched visitors holding a second or "
                "more of someone other than their main person (in brackets, the boxes of "
                "people in another's visitor)."
            ),
            Table(
                [
                    "mode",
                    "MTMC IDF1",
                    "IDP",
                    "IDR",
                    "unique visitors (true)",
                    "off the plan",
                    "held back",
                    "error",
                    "re-entries recognised",
                    "splits",
                    "joins (boxes)",
                ],
                modes,
            ),
        ]
        lines = [
            [ln["line_id"], f"{ln['true_in']} / {ln['true_out']}",
             f"{ln['system_in']} / {ln['system_out']}", signed(ln["count_error"], 0)]
            for ln in g["lines"]
        ]  # fmt: skip
        if lines:
            out += [
                Para(
                    "Line counts: the site's lines on one trajectory per true person (feet in "
                    "every view through the calibration, averaged per frame) against one per "
                    f"stitched visitor ({g['headline_mode']}), with the site's counting rules."
                ),
                Table(["line", "true in / out", "system in / out", "error"], lines),
            ]
        zones = [
            [z["zone_id"], z["true_visits"], z["system_visits"],
             fmt(z["true_mean_dwell_s"], 1), fmt(z["system_mean_dwell_s"], 1),
             fmt(z["true_total_dwell_s"], 0), fmt(z["system_total_dwell_s"], 0)]
            for z in g["modes"][g["headline_mode"]]["zones"]
        ]  # fmt: skip
        if zones:
            out += [
                Para("Zone visits and dwell, the same trajectories, the site's rules."),
                Table(
                    [
                        "zone",
                        "true visits",
                        "system visits",
                        "true mean dwell s",
                        "system mean dwell s",
                        "true person-s",
                        "system person-s",
                    ],
                    zones,
                ),
            ]
        out.append(
            Figure(
                f"plots/multicam_{g['name']}_{g['config']}.png",
                "Trajectories on the floor plan: the ground truth coloured by person (left); "
                "every camera's local tracks coloured by stitched visitor, one line style per "
                "camera (right).",
            )
        )
    return out


def _method() -> list[Block]:
    return [
        Heading("How the figures are computed"),
        Para(
            "Tracking metrics are TrackEval's (HOTA, CLEAR, Identity; the code behind the "
            "MOTChallenge leaderboards) fed with box IoU per frame; ground-truth rows with "
            "conf = 0 are ignored. Counting uses `footfall.site.rules` on both sides. "
            "Raw result files (MOTChallenge rows) are kept under the work folder given by "
            "`--work-dir`. Footage and annotations stay in ../shared/data (research terms, see "
            "each SOURCE.md); this report holds derived figures and plots only."
        ),
    ]


# --------------------------------------------------------------------------- rendering


def to_markdown(items: Sequence[Block]) -> str:
    lines: list[str] = []
    for b in items:
        if isinstance(b, Heading):
            lines += ["#" * b.level + " " + b.text, ""]
        elif isinstance(b, Para):
            if b.text:
                lines += [b.text, ""]
        elif isinstance(b, Code):
            lines += ["```", b.text, "```", ""]
        elif isinstance(b, Table):
            lines.append("| " + " | ".join(b.headers) + " |")
            lines.append("|" + "---|" * len(b.headers))
            for row in b.rows:
                lines.append("| " + " | ".join(fmt(c).replace("|", "\\|") for c in row) + " |")
            lines.append("")
        elif isinstance(b, Figure):
            lines += [f"![{b.caption}]({b.file})", "", f"*{b.caption}*", ""]
    return "\n".join(lines)


_CSS = """
body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:14px}
th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}
th{background:#f2f2f2} tr:nth-child(even) td{background:#fafafa}
pre{background:#f5f5f5;padding:8px;overflow-x:auto} img{max-width:100%}
figcaption{font-style:italic;color:#555}
"""


def to_html(items: Sequence[Block], folder: Path) -> str:
    title = next((b.text for b in items if isinstance(b, Heading)), "Evaluation")
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
    ]
    for b in items:
        if isinstance(b, Heading):
            parts.append(f"<h{b.level}>{html.escape(b.text)}</h{b.level}>")
        elif isinstance(b, Para):
            if b.text:
                parts.append(f"<p>{html.escape(b.text)}</p>")
        elif isinstance(b, Code):
            parts.append(f"<pre><code>{html.escape(b.text)}</code></pre>")
        elif isinstance(b, Table):
            head = "".join(f"<th>{html.escape(h)}</th>" for h in b.headers)
            body = "".join(
                "<tr>" + "".join(f"<td>{html.escape(fmt(c))}</td>" for c in row) + "</tr>"
                for row in b.rows
            )
            parts.append(f"<table><tr>{head}</tr>{body}</table>")
        elif isinstance(b, Figure):
            png = folder / b.file
            if png.is_file():
                data = base64.b64encode(png.read_bytes()).decode()
                parts.append(
                    f"<figure><img alt='{html.escape(b.caption)}' src='data:image/png;base64,"
                    f"{data}'><figcaption>{html.escape(b.caption)}</figcaption></figure>"
                )
    parts.append("</body></html>")
    return "\n".join(parts)


def rewrite_report(folder: Path) -> list[Path]:
    """Render ``folder``'s report again from its metrics.json (after a change to this module)."""
    return write_report(Results(**json.loads((folder / "metrics.json").read_text())), folder)


def write_report(results: Results, folder: Path) -> list[Path]:
    """Write plots, report.md, report.html and metrics.json into ``folder``; returns them."""
    from footfall.evaluation.plots import write_plots

    folder.mkdir(parents=True, exist_ok=True)
    write_plots(results, folder / "plots")
    items = blocks(results)
    items = [b for b in items if not isinstance(b, Figure) or (folder / b.file).is_file()]
    written = [folder / "report.md", folder / "report.html", folder / "metrics.json"]
    written[0].write_text(to_markdown(items))
    written[1].write_text(to_html(items, folder))
    written[2].write_text(json.dumps(results.as_dict(), indent=1, default=str) + "\n")
    return written
