"""Graceful shutdown: SIGTERM and Ctrl-C ask the pipeline to stop, so the publisher can flush.

The edge ``run`` command installs the handlers, runs its loop until the event is set, then
flushes and closes its sink::

    stop = threading.Event()
    restore = install_stop_handlers(stop)
    try:
        while not stop.is_set():
            ...  # read a frame, track, publisher.publish(message)
    finally:
        publisher.close()  # flushes; what is not delivered in time stays in the spool
        restore()
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable, Iterable
from types import FrameType

__all__ = ["install_stop_handlers"]

log = logging.getLogger(__name__)


def install_stop_handlers(
    stop: threading.Event,
    signals: Iterable[signal.Signals] = (signal.SIGTERM, signal.SIGINT),
) -> Callable[[], None]:
    """Make ``signals`` set ``stop`` instead of killing the process; returns a function that
    puts the previous handlers back.

    The first signal sets the event and logs one line; a second SIGINT (Ctrl-C pressed again)
    raises ``KeyboardInterrupt`` for someone who does not want to wait for the flush. Must be
    called from the main thread (a rule of Python's ``signal`` module).
    """
    previous: dict[signal.Signals, object] = {}

    def handle(signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        log.info("%s received: stopping, flushing what is spooled (Ctrl-C again to quit now)", name)
        stop.set()

    for sig in signals:
        previous[sig] = signal.signal(sig, handle)

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]

    return restore
