"""``footfall cloud deepstream-bridge``: DeepStream's Kafka messages → the footfall contract."""

from __future__ import annotations

import os
import re
from pathlib import Path

import click

from cloud import settings
from cloud.deepstream.bridge import BridgeSettings
from cloud.deepstream.payloads import Schema
from footfall.contract.messages import EMBEDDING_MODEL_PATTERN, SLUG_PATTERN
from footfall.deepstream.config import DEEPSTREAM_TOPIC
from footfall.site.folder import load_sites

DEFAULT_GROUP = "footfall-deepstream-bridge"


def _size(text: str | None) -> tuple[int, int] | None:
    if text is None:
        return None
    w, sep, h = text.lower().partition("x")
    if not sep or not w.isdigit() or not h.isdigit() or min(int(w), int(h)) < 16:
        raise click.BadParameter(f"{text!r} is not WIDTHxHEIGHT in pixels, e.g. 1920x1080")
    return int(w), int(h)


@click.command("deepstream-bridge")
@click.option("--bootstrap-servers", help="Broker host:port (env FOOTFALL_BOOTSTRAP_SERVERS).")
@click.option(
    "--site",
    "site_files",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Site config file (repeat); given, only these sites, not the sites folder's.",
)
@click.option(
    "--sites-dir", type=click.Path(file_okay=False), help="Folder of site configs (*.yaml)."
)
@click.option(
    "--topic",
    "ds_topics",
    multiple=True,
    default=(DEEPSTREAM_TOPIC,),
    show_default=True,
    help="Topic DeepStream publishes to (repeat for several).",
)
@click.option(
    "--schema",
    type=click.Choice(["auto", *[s.value for s in Schema]]),
    default="auto",
    show_default=True,
    help="nvmsgconv payload: minimal or full JSON, protobuf; auto tells them apart.",
)
@click.option(
    "--topic-namespace", default="", help="Prefix of all topic names, in and out (tests, tenants)."
)
@click.option("--group-id", default=DEFAULT_GROUP, show_default=True, help="Consumer group.")
@click.option(
    "--state-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where the bridge keeps its state and id key [default: .run/deepstream-bridge/"
    "GROUP.json, under $FOOTFALL_RUN_DIR instead of .run when set].",
)
@click.option("--node-id", default="deepstream", show_default=True, help="node_id of the messages.")
@click.option(
    "--label",
    "labels",
    multiple=True,
    default=("Person",),
    show_default=True,
    help="Object label of people (case-insensitive; repeat); other objects are left out.",
)
@click.option(
    "--box-size",
    help="WIDTHxHEIGHT of the frames DeepStream's boxes are in (its streammux) [default: each "
    "camera's resolution].",
)
@click.option(
    "--track-timeout-s",
    default=2.0,
    show_default=True,
    type=click.FloatRange(0.1),
    help="A tracklet ends after this long (the camera's time) without its tracking id.",
)
@click.option(
    "--frame-wait-s",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0.05),
    help="Full schema: send a frame after this long without a later one.",
)
@click.option(
    "--heartbeat-interval-s",
    default=30.0,
    show_default=True,
    type=click.FloatRange(1),
    help="A heartbeat per camera this often (the camera's time).",
)
@click.option(
    "--embedding-model",
    default="deepstream",
    show_default=True,
    help="embedding_model of the tracklets' embeddings.",
)
@click.option(
    "--idle-exit-s",
    type=click.FloatRange(0.1),
    help="End open tracklets and stop after this long without records (tests, back-fills).",
)
def deepstream_bridge(
    bootstrap_servers: str | None,
    site_files: tuple[str, ...],
    sites_dir: str | None,
    ds_topics: tuple[str, ...],
    schema: str,
    topic_namespace: str,
    group_id: str,
    state_file: Path | None,
    node_id: str,
    labels: tuple[str, ...],
    box_size: str | None,
    track_timeout_s: float,
    frame_wait_s: float,
    heartbeat_interval_s: float,
    embedding_model: str,
    idle_exit_s: float | None,
) -> None:
    """Turn DeepStream's messages (minimal, full or protobuf) into footfall's contract topics,
    exactly once; bad payloads go to the dead-letter topic with the reason."""
    from cloud.deepstream.service import run_bridge

    if not re.fullmatch(SLUG_PATTERN, node_id):
        raise click.BadParameter(
            f"{node_id!r} is not a node id: lowercase letters, digits, - and _",
            param_hint="--node-id",
        )
    if not re.fullmatch(EMBEDDING_MODEL_PATTERN, embedding_model):
        raise click.BadParameter(
            f"{embedding_model!r} is not a model name: lowercase letters, digits, . _ + -",
            param_hint="--embedding-model",
        )
    sites = load_sites(site_files, sites_dir)
    if state_file is None:
        run_dir = Path(os.environ.get("FOOTFALL_RUN_DIR", ".run"))
        state_file = run_dir / "deepstream-bridge" / f"{group_id}.json"
    run_bridge(
        settings.bootstrap_servers(bootstrap_servers),
        sites,
        BridgeSettings(
            node_id=node_id,
            labels=labels,
            box_size=_size(box_size),
            track_timeout_s=track_timeout_s,
            frame_wait_s=frame_wait_s,
            heartbeat_interval_s=heartbeat_interval_s,
            embedding_model=embedding_model,
        ),
        state_file,
        ds_topics,
        group_id,
        topic_namespace,
        None if schema == "auto" else Schema(schema),
        idle_exit_s=idle_exit_s,
    )
