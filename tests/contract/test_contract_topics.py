"""Topic routing and partition keys."""

from typing import Any

from footfall.contract import (
    ALL_TOPICS,
    DEADLETTER_TOPIC,
    HEARTBEATS_TOPIC,
    MESSAGE_TYPES,
    OBSERVATIONS_TOPIC,
    RECOMMENDED_PARTITIONS,
    TOPIC_BY_KIND,
    TRACKLETS_TOPIC,
    Message,
    partition_key,
    topic_for,
)


def test_topic_names() -> None:
    assert OBSERVATIONS_TOPIC == "footfall.observations.v1"
    assert TRACKLETS_TOPIC == "footfall.tracklets.v1"
    assert HEARTBEATS_TOPIC == "footfall.heartbeats.v1"
    assert DEADLETTER_TOPIC == "footfall.deadletter.v1"
    assert len(set(ALL_TOPICS)) == 4
    assert RECOMMENDED_PARTITIONS >= 1


def test_every_kind_has_a_topic() -> None:
    assert set(TOPIC_BY_KIND) == set(MESSAGE_TYPES)
    assert DEADLETTER_TOPIC not in TOPIC_BY_KIND.values()


def test_topic_for(
    make_frame: Any, make_tracklet_start: Any, make_tracklet_end: Any, make_heartbeat: Any
) -> None:
    assert topic_for(make_frame()) == OBSERVATIONS_TOPIC
    assert topic_for(make_tracklet_start()) == TRACKLETS_TOPIC
    assert topic_for(make_tracklet_end()) == TRACKLETS_TOPIC
    assert topic_for(make_heartbeat()) == HEARTBEATS_TOPIC


def test_partition_key_is_site_slash_camera(example: Message) -> None:
    key = partition_key(example)
    assert isinstance(key, bytes)
    assert key == b"mall-1/cam_01"


def test_same_camera_same_key_across_kinds_and_nodes(all_messages: list[Message]) -> None:
    keys = {partition_key(m) for m in all_messages}
    assert keys == {b"mall-1/cam_01"}


def test_partition_keys_differ_across_cameras_and_sites(make_frame: Any) -> None:
    a = partition_key(make_frame())
    same = partition_key(make_frame(node_id="edge-b", frame_index=7))
    other_camera = partition_key(make_frame(camera_id="cam_02"))
    other_site = partition_key(make_frame(site_id="mall-2"))
    assert a == same
    assert len({a, other_camera, other_site}) == 3
