"""Where the edge pipeline sends its contract messages.

The pipeline only knows this protocol; the Kafka publisher (with its on-disk spool) and the
in-memory twin used by unit tests implement it.
"""

from __future__ import annotations

from typing import Protocol

from footfall.contract import Message


class Sink(Protocol):
    """Takes contract messages in order; ``flush`` waits until they are durable or delivered."""

    def publish(self, message: Message) -> None: ...

    def flush(self, timeout_s: float | None = None) -> None: ...

    def close(self) -> None: ...


class MemorySink:
    """In-memory twin of a sink, for unit tests: keeps every message in arrival order."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.closed = False

    def publish(self, message: Message) -> None:
        if self.closed:
            raise RuntimeError("publish() on a closed sink")
        self.messages.append(message)

    def flush(self, timeout_s: float | None = None) -> None:
        return None

    def close(self) -> None:
        self.closed = True
