"""kafka-python's dropped-connection errors reach the cloud's logs as one line, no traceback."""

from __future__ import annotations

import io
import logging

from cloud.transport.kafka import client_errors_on_one_line


def test_a_kafka_client_traceback_becomes_one_line_and_others_keep_theirs() -> None:
    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root.addHandler(handler)
    try:
        client_errors_on_one_line()
        client_errors_on_one_line()  # installed once however often it is called
        assert len(handler.filters) == 1
        try:
            raise ConnectionResetError(104, "Connection reset by peer")
        except ConnectionResetError:
            logging.getLogger("kafka.net.transport").exception(
                "%s: Error receiving network data closing socket", "<conn broker 1>"
            )
            logging.getLogger("footfall.other").exception("ours keep the stack")
    finally:
        root.removeHandler(handler)
    kafka_line, *ours = stream.getvalue().splitlines()
    assert kafka_line == (
        "<conn broker 1>: Error receiving network data closing socket "
        "(ConnectionResetError: [Errno 104] Connection reset by peer)"
    )
    assert ours[0] == "ours keep the stack" and ours[1].startswith("Traceback")
