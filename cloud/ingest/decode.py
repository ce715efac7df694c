"""Step 1: validate each record against the wire contract, the configured sites and the clock.

The contract accepts timestamps up to 2100 (a node's clock may be wrong either way, and the
contract cannot know "now"); ingest can. A message stamped further ahead of ingest's own clock
than ``max_future_skew_s`` becomes a dead letter: stored, it would sit in the future, outlive
retention (its chunk never ages out) and hold up stitching (which waits for time to pass it).

A valid message of a site or camera that ingest has no config for (yet) is not a dead letter: it
is *held* (stored as it came, see :mod:`cloud.ingest.writer`) and ingested once the site's
config arrives, so a stream never depends on the order in which configs and cameras go live.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from cloud.transport.types import DeadLetter, Record
from footfall.contract import TOPIC_BY_KIND, ContractError, Message, decode


@dataclass(frozen=True)
class Held:
    """A valid record of a site or camera without a config (yet): kept until one arrives."""

    record: Record
    site_id: str
    camera_id: str
    at: datetime
    """The message's own time (retention ages held records by it)."""


@dataclass
class Decoded:
    messages: list[Message] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    held: list[Held] = field(default_factory=list)


def decode_records(
    records: Iterable[Record],
    cameras: Mapping[str, frozenset[str]],
    namespace: str = "",
    now: datetime | None = None,
    max_future_skew_s: float | None = None,
) -> Decoded:
    """Valid messages for known sites and cameras; valid ones of unknown sites or cameras as
    held records; everything else as dead letters.

    ``cameras`` maps each configured site id to its camera ids. With ``now`` and
    ``max_future_skew_s``, a message with a timestamp more than that far after ``now`` is a
    dead letter too.
    """
    out = Decoded()
    latest = None
    if now is not None and max_future_skew_s is not None:
        latest = now + timedelta(seconds=max_future_skew_s)
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
                reason = _check_topic(msg, record.topic, namespace)
                if reason is None and latest is not None:
                    assert now is not None and max_future_skew_s is not None
                    reason = _check_future(msg, now, latest, max_future_skew_s)
                if reason is None:
                    site_cameras = cameras.get(msg.site_id)
                    if site_cameras is None or msg.camera_id not in site_cameras:
                        at = getattr(msg, _TIMESTAMP_FIELDS[msg.kind][0])
                        out.held.append(Held(record, msg.site_id, msg.camera_id, at))
                    else:
                        out.messages.append(msg)
                    continue
        out.dead.append(DeadLetter(record, reason))
    return out


def _check_topic(msg: Message, topic: str, namespace: str) -> str | None:
    expected = TOPIC_BY_KIND[msg.kind]
    if namespace:
        expected = f"{namespace}.{expected}"
    if topic != expected:
        return f"{msg.kind}: arrived on topic {topic}; publish it to {expected}"
    return None


_TIMESTAMP_FIELDS: Final = {
    "frame": ("captured_at",),
    "tracklet_start": ("started_at",),
    "tracklet_end": ("started_at", "ended_at"),
    "heartbeat": ("sent_at",),
}


def _check_future(msg: Message, now: datetime, latest: datetime, skew_s: float) -> str | None:
    for name in _TIMESTAMP_FIELDS[msg.kind]:
        at: datetime = getattr(msg, name)
        if at > latest:
            return (
                f"{msg.kind}.{name}: {_iso(at)} is {(at - now).total_seconds():.0f} s ahead of "
                f"ingest's clock ({_iso(now)}), more than the {skew_s:g} s allowed; sync the "
                f"edge node's clock (NTP) or, if ingest's clock is behind, fix that one"
            )
    return None


def _iso(at: datetime) -> str:
    return at.isoformat(timespec="seconds").replace("+00:00", "Z")
