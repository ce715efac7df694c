"""The report's plots (matplotlib, headless): PNG files under ``plots/``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from footfall.evaluation.runner import Results


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def write_plots(results: Results, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):  # a plot from an earlier run must not linger
        old.unlink()
    written: list[Path] = []
    if results.runs:
        written += [_tracking(results, folder / "tracking.png")]
        written += [_hota_alpha(results, folder / "hota_alpha.png")]
        if any(ln for r in results.runs for c in r["counting"] for ln in c["lines"]):
            written += [_counting(results, folder / "counting.png")]
    for group in results.multi_camera:
        name = f"multicam_{group['name']}_{group['config']}.png"
        written.append(_multi_camera(group, folder / name))
    drawn: set[tuple[str, tuple[int, ...]]] = set()
    for crowd in results.crowd:
        key = (crowd["name"], tuple(crowd["per_frame"]["system"]))
        if key in drawn:  # the same detector settings as a config drawn already
            continue
        drawn.add(key)
        written.append(_crowd(crowd, folder / f"crowd_{crowd['name']}_{crowd['config']}.png"))
    return written


def _tracking(results: Results, path: Path) -> Path:
    plt = _pyplot()
    configs = [c["name"] for c in results.configs]
    seqs = list(dict.fromkeys(r["sequence"] for r in results.runs))
    by = {(r["sequence"], r["config"]): r["tracking"] for r in results.runs}
    metrics = ("hota", "idf1", "mota")
    fig, axes = plt.subplots(1, 3, figsize=(4 + 1.2 * len(seqs) * len(configs) ** 0.5 * 3, 4))
    width = 0.8 / max(len(configs), 1)
    for ax, metric in zip(axes, metrics, strict=True):
        for k, config in enumerate(configs):
            values = [by.get((s, config), {}).get(metric, 0.0) for s in seqs]
            xs = [i + (k - (len(configs) - 1) / 2) * width for i in range(len(seqs))]
            ax.bar(xs, values, width, label=config)
        ax.set_xticks(range(len(seqs)), seqs, rotation=20, ha="right", fontsize=8)
        ax.set_ylim(min(0.0, *[t[metric] for t in by.values()]), 1.0)
        ax.set_title(metric.upper())
        ax.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _hota_alpha(results: Results, path: Path) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(7, 4))
    for r in results.runs:
        curve = r["hota_curve"]
        label = r["sequence"] if len(results.configs) == 1 else f"{r['sequence']} ({r['config']})"
        (line,) = ax.plot(curve["alpha"], curve["hota"], label=f"{label} HOTA")
        ax.plot(curve["alpha"], curve["deta"], "--", color=line.get_color(), alpha=0.6)
    ax.set_xlabel("IoU threshold α")
    ax.set_ylabel("HOTA (solid), DetA (dashed)")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _counting(results: Results, path: Path) -> Path:
    plt = _pyplot()
    labels, true, system = [], [], []
    for r in results.runs:
        for c in r["counting"]:
            for ln in c["lines"]:
                suffix = "" if len(results.configs) == 1 else f" [{r['config']}]"
                labels.append(f"{r['sequence']}:{ln['line_id']}{suffix}")
                true.append(ln["true_in"] + ln["true_out"])
                system.append(ln["system_in"] + ln["system_out"])
    fig, ax = plt.subplots(figsize=(max(6, 0.5 * len(labels) + 2), 4))
    xs = range(len(labels))
    ax.bar([x - 0.2 for x in xs], true, 0.4, label="true (ground truth)")
    ax.bar([x + 0.2 for x in xs], system, 0.4, label="system")
    ax.set_xticks(list(xs), labels, rotation=30, ha="right", fontsize=7)
    ax.set_ylabel("crossings (in + out)")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _crowd(crowd: dict[str, Any], path: Path) -> Path:
    plt = _pyplot()
    per = crowd["per_frame"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [2, 1]})
    ax1.plot(per["frame"], per["true"], label="true (heads in ROI)", lw=1)
    counted = "tracks" if crowd.get("counted_by") == "tracks" else "detections"
    ax1.plot(per["frame"], per["system"], label=f"system ({counted} in ROI)", lw=1)
    ax1.set_xlabel("frame")
    ax1.set_ylabel("people")
    ax1.legend(fontsize=8)
    ax1.grid(alpha=0.3)
    ax2.scatter(per["true"], per["system"], s=6, alpha=0.5)
    top = max([*per["true"], *per["system"], 1])
    ax2.plot([0, top], [0, top], "k--", lw=0.8)
    ax2.set_xlabel("true count")
    ax2.set_ylabel("system count")
    ax2.set_title(f"by {counted}: MAE {crowd['mae']:.2f}, MAPE {100 * crowd['mape']:.1f} %")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _multi_camera(group: dict[str, Any], path: Path) -> Path:
    """Both sides on the floor plan: true people (left), local tracks by stitched visitor."""
    plt = _pyplot()
    floor = group["floor"]
    traj = group["trajectories"]
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.6), sharex=True, sharey=True)
    colours = plt.get_cmap("tab20").colors
    styles = ["-", "--", ":", "-."]
    cams = list(dict.fromkeys(c["camera"] for c in group["cameras"]))
    for ax in axes:
        for zone in floor["zones"]:
            xs, ys = zip(*[*zone["polygon"], zone["polygon"][0]], strict=True)
            ax.fill(xs, ys, color="#eeeeee", zorder=0)
        for line in floor["lines"]:
            ax.plot([line["a"][0], line["b"][0]], [line["a"][1], line["b"][1]], "k-", lw=2.5)
            ax.annotate(line["id"], line["a"], fontsize=7)
        ax.set_xlim(0, floor["width_m"])
        ax.set_ylim(floor["depth_m"], 0)  # y points down on a plan
        ax.set_aspect("equal")
        ax.set_xlabel("x (m)")
    for k, person in enumerate(traj["truth"]):
        xy = person["xy"]
        if xy:
            xs, ys = zip(*xy, strict=True)
            axes[0].plot(xs, ys, color=colours[k % len(colours)], lw=1.2)
    axes[0].set_title(f"ground truth: {len(traj['truth'])} people")
    axes[0].set_ylabel("y (m)")
    order = {v: i for i, v in enumerate(dict.fromkeys(t["visitor"] for t in traj["system"]))}
    for track in traj["system"]:
        xs, ys = zip(*track["xy"], strict=True)
        style = (
            styles[cams.index(track["camera"]) % len(styles)] if track["camera"] in cams else "-"
        )
        axes[1].plot(xs, ys, style, color=colours[order[track["visitor"]] % len(colours)], lw=1)
    for i, cam in enumerate(cams):
        axes[1].plot([], [], styles[i % len(styles)], color="grey", label=cam)
    axes[1].legend(fontsize=7, loc="lower right")
    axes[1].set_title(f"stitched ({group['headline_mode']}): {group['unique_visitors']} visitors")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
