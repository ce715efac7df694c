"""Publishing contract messages from the edge: Kafka producer, durable spool, graceful stop.

* :class:`KafkaPublisher` (``edge.publish.kafka``) -- the :class:`edge.sink.Sink` for production:
  messages go through an on-disk :class:`Spool` and reach the broker exactly once, in order per
  camera, across broker outages and process restarts.
* :class:`Spool` (``edge.publish.spool``) -- the durable, bounded (drop-oldest) record queue.
* :func:`install_stop_handlers` (``edge.publish.shutdown``) -- SIGTERM / Ctrl-C set a stop event.

``KafkaPublisher`` is imported lazily so that the spool can be used without kafka-python.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from edge.publish.record import OutgoingRecord
from edge.publish.shutdown import install_stop_handlers
from edge.publish.spool import FsyncPolicy, Spool, SpoolRecord

if TYPE_CHECKING:
    from edge.publish.kafka import KafkaPublisher

__all__ = [
    "FsyncPolicy",
    "KafkaPublisher",
    "OutgoingRecord",
    "Spool",
    "SpoolRecord",
    "install_stop_handlers",
]


def __getattr__(name: str) -> Any:
    if name == "KafkaPublisher":
        from edge.publish.kafka import KafkaPublisher

        return KafkaPublisher
    raise AttributeError(f"module 'edge.publish' has no attribute {name!r}")
