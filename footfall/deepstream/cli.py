"""``footfall deepstream config``: DeepStream configuration files from a site config."""

from __future__ import annotations

from pathlib import Path

import click

from footfall.deepstream.config import DEEPSTREAM_TOPIC, write_configs, zone_label
from footfall.errors import Group
from footfall.site import load_site


@click.group("deepstream", cls=Group)
def deepstream() -> None:
    """DeepStream edges: configuration files written from the site model."""


def _size(text: str) -> tuple[int, int]:
    w, sep, h = text.lower().partition("x")
    if not sep or not w.isdigit() or not h.isdigit() or not (16 <= int(w) <= 16384):
        raise click.BadParameter(f"{text!r} is not WIDTHxHEIGHT in pixels, e.g. 1920x1080")
    return int(w), int(h)


@deepstream.command("config")
@click.option(
    "--site",
    "site_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Site config (YAML) whose lines and zones the analytics get.",
)
@click.option(
    "--camera",
    "camera_ids",
    multiple=True,
    required=True,
    help="Camera the DeepStream node runs (repeat; the N-th is stream N).",
)
@click.option(
    "--out",
    "out_dir",
    default="deepstream",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the files into.",
)
@click.option(
    "--kafka",
    default="127.0.0.1:9092",
    show_default=True,
    help="Broker HOST:PORT as the DeepStream node reaches it.",
)
@click.option(
    "--topic", default=DEEPSTREAM_TOPIC, show_default=True, help="Topic DeepStream publishes to."
)
@click.option(
    "--mux-size",
    default="1920x1080",
    show_default=True,
    help="streammux WIDTHxHEIGHT: the frame size DeepStream's boxes are given in (pass the "
    "same to the bridge's --box-size).",
)
@click.option(
    "--people-per-m2",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0.01, 10),
    help="Overcrowding: more than this many people per square metre of a zone.",
)
def config(
    site_file: Path,
    camera_ids: tuple[str, ...],
    out_dir: Path,
    kafka: str,
    topic: str,
    mux_size: str,
    people_per_m2: float,
) -> None:
    """Write nvdsanalytics, nvmsgconv, Kafka adaptor and deepstream-app configs for cameras."""
    site = load_site(site_file)
    paths, plans = write_configs(
        site, camera_ids, out_dir, kafka, topic, _size(mux_size), people_per_m2
    )
    for p in plans:
        lines = ", ".join(li.line.id for li in p.lines) or "none"
        zones = ", ".join(zone_label(z) for z in p.zones) or "none"
        click.echo(f"stream {p.index}: camera {p.camera.id}: lines {lines}; zones {zones}")
    for path in paths:
        click.echo(f"wrote {path}")
