"""Step 1: validate each record against the wire contract and the configured sites."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from cloud.ingest.records import DeadLetter, Record
from footfall.contract import TOPIC_BY_KIND, ContractError, Message, decode


@dataclass
class Decoded:
    messages: list[Message] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)


def decode_records(
    records: Iterable[Record], cameras: Mapping[str, frozenset[str]], namespace: str = ""
) -> Decoded:
    """Valid messages for known sites and cameras; everything else as dead letters.

    ``cameras`` maps each configured site id to its camera ids.
    """
    out = Decoded()
    for record in records:
        reason = None
        if record.value is None:
            reason = "message: empty record (no value); producers must send a JSON message"
        else:
            try:
                msg = decode(record.value)
            except ContractError as exc:
                reason = str(exc)
            else:
                reason = _check_routing(msg, record.topic, cameras, namespace)
                if reason is None:
                    out.messages.append(msg)
                    continue
        out.dead.append(DeadLetter(record, reason))
    return out


def _check_routing(
    msg: Message, topic: str, cameras: Mapping[str, frozenset[str]], namespace: str
) -> str | None:
    expected = TOPIC_BY_KIND[msg.kind]
    if namespace:
        expected = f"{namespace}.{expected}"
    if topic != expected:
        return f"{msg.kind}: arrived on topic {topic}; publish it to {expected}"
    site_cameras = cameras.get(msg.site_id)
    if site_cameras is None:
        known = ", ".join(sorted(cameras)) or "none"
        return (
            f"{msg.kind}.site_id: unknown site {msg.site_id!r} (configured: {known}); "
            "start ingest with that site's config"
        )
    if msg.camera_id not in site_cameras:
        return (
            f"{msg.kind}.camera_id: camera {msg.camera_id!r} is not in site {msg.site_id!r}; "
            "add it to the site config"
        )
    return None
