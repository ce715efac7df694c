"""``footfall edge …`` commands."""

from __future__ import annotations

import time
from pathlib import Path

import click

from edge.sources import SourceError, read_frame
from edge.weights import WeightsError, sha256_of, verified_weights
from footfall.site import SiteConfigError, load_site


@click.group()
def edge() -> None:
    """Edge node: footage → detection → tracking → floor positions → Kafka."""


@edge.command()
@click.option(
    "--path",
    "weights_path",
    type=click.Path(path_type=Path),
    help="A weights file to check instead of the packaged YOLOv8n.",
)
@click.option("--sha256", help="Expected sha256 of --path.")
@click.option("--verify/--no-verify", default=True, show_default=True)
def weights(weights_path: Path | None, sha256: str | None, verify: bool) -> None:
    """Locate the detector weights and verify their sha256."""
    try:
        path = verified_weights(weights_path, sha256 if verify else None)
    except WeightsError as exc:
        raise click.ClickException(str(exc)) from None
    state = "verified" if verify and (sha256 or weights_path is None) else "not verified"
    click.echo(f"detector weights: {path} (sha256 {sha256_of(path)[:16]}…, {state})")


@edge.command()
@click.option(
    "--site",
    "site_file",
    required=True,
    type=click.Path(dir_okay=False),
    help="Site config (configs/sites/*.yaml).",
)
@click.option(
    "--frame",
    "frame_index",
    type=int,
    default=0,
    show_default=True,
    help="Which frame of each source to test (0-based).",
)
@click.option("--image-size", type=int, default=640, show_default=True)
@click.option("--confidence", type=float, default=0.25, show_default=True)
def check(site_file: str, frame_index: int, image_size: int, confidence: float) -> None:
    """Pre-flight check: open every camera's source and detect people on one frame of each.

    Sources that cannot be read are reported one line each; the other cameras are still checked.
    Exits 1 if any camera failed.
    """
    from edge.detection import YoloPersonDetector

    try:
        site = load_site(site_file)
        weights_file = verified_weights()
    except (SiteConfigError, WeightsError) as exc:
        raise click.ClickException(str(exc)) from None
    detector = YoloPersonDetector(weights_file, image_size=image_size, confidence=confidence)
    failures = 0
    for camera in site.cameras:
        try:
            frame = read_frame(camera.source, camera.id, frame_index)
        except SourceError as exc:
            click.echo(f"  {camera.id:<20} FAILED  {exc}")
            failures += 1
            continue
        started = time.perf_counter()
        (found,) = detector.detect([frame])
        ms = (time.perf_counter() - started) * 1000
        h, w = frame.shape[:2]
        note = "" if (w, h) == tuple(camera.resolution) else f" (config says {camera.resolution})"
        click.echo(
            f"  {camera.id:<20} ok      {w}x{h}{note}, frame {frame_index}: "
            f"{len(found)} people detected in {ms:.0f} ms"
        )
    if failures:
        raise click.ClickException(f"{failures} of {len(site.cameras)} cameras failed the check.")
