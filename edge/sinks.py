"""Choosing where ``footfall edge run`` sends its messages: ``memory``, ``jsonl`` or ``kafka``.

``kafka`` imports :mod:`edge.publish` only when chosen, so the rest of the edge works without it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from edge.sink import MemorySink, Sink
from footfall.contract import Message, encode
from footfall.errors import UserError


@dataclass(frozen=True)
class SinkOptions:
    node_id: str
    bootstrap_servers: str
    spool_dir: Path
    jsonl_path: Path | None
    topic_namespace: str = ""
    drain_timeout_s: float = 10.0
    """kafka: on close, how long to wait for the broker to take what is still spooled."""


class SinkError(UserError, RuntimeError):
    """The sink cannot be built; ``str()`` is one sentence with the fix."""


class JsonlSink:
    """Writes each message as one line of compact contract JSON (a file, or stdout)."""

    def __init__(self, path: Path | None) -> None:
        self._out: TextIO = path.open("a") if path is not None else sys.stdout
        self._owned = path is not None

    def publish(self, message: Message) -> None:
        self._out.write(encode(message).decode() + "\n")

    def flush(self, timeout_s: float | None = None) -> None:
        self._out.flush()

    def close(self) -> None:
        self.flush()
        if self._owned:
            self._out.close()


def _kafka(options: SinkOptions) -> Sink:
    try:
        from edge.publish import KafkaPublisher
    except ImportError as exc:
        raise SinkError(
            f"The kafka sink is not available here ({exc}); install the 'edge' extra or use "
            "--sink jsonl."
        ) from None
    sink: Sink = KafkaPublisher(
        bootstrap_servers=options.bootstrap_servers,
        spool_dir=options.spool_dir,
        topic_namespace=options.topic_namespace,
        close_timeout_s=options.drain_timeout_s,
    )
    return sink


SINKS: dict[str, Callable[[SinkOptions], Sink]] = {
    "memory": lambda options: MemorySink(),
    "jsonl": lambda options: JsonlSink(options.jsonl_path),
    "kafka": _kafka,
}


def build_sink(name: str, options: SinkOptions) -> Sink:
    factory = SINKS.get(name)
    if factory is None:
        raise SinkError(f"Unknown sink '{name}'; valid choices: {', '.join(SINKS)}.")
    return factory(options)
