"""Encoding and decoding of v1 wire messages: compact UTF-8 JSON.

``decode`` is meant to be called once per consumed Kafka record: it parses and validates in
one pass in pydantic-core (numbers are strict: ``"5"`` is not an integer), and any problem
becomes a single :class:`ContractError` whose text is one sentence for the dead-letter
topic. No ``ValidationError`` or ``JSONDecodeError`` escapes.
"""

from typing import Final

from pydantic import TypeAdapter, ValidationError

from footfall.contract.errors import ContractError
from footfall.contract.messages import (
    CameraHeartbeat,
    FrameObservations,
    Message,
    TrackletEnded,
    TrackletStarted,
)

__all__ = ["MAX_MESSAGE_BYTES", "decode", "encode"]

MAX_MESSAGE_BYTES: Final = 1_000_000
"""Largest encoded message accepted by ``decode`` (Kafka's default limit is about 1 MB).

A full frame (500 tracks) or a 2048-dimension embedding stays far below this.
"""

_ADAPTER: Final[TypeAdapter[Message]] = TypeAdapter(Message)
_MESSAGE_CLASSES: Final = (FrameObservations, TrackletStarted, TrackletEnded, CameraHeartbeat)


def encode(msg: Message) -> bytes:
    """Serialise a message to compact UTF-8 JSON (absent optional fields are omitted)."""
    if not isinstance(msg, _MESSAGE_CLASSES):
        raise TypeError(f"not a footfall wire message: {type(msg).__name__}")
    return msg.__pydantic_serializer__.to_json(msg, exclude_none=True)


def decode(data: bytes | bytearray | memoryview | str) -> Message:
    """Parse and validate one message; raise :class:`ContractError` if it is not valid."""
    if isinstance(data, memoryview):
        data = data.tobytes()
    if not isinstance(data, bytes | bytearray | str):
        raise ContractError(f"expected bytes, got {type(data).__name__}")
    if len(data) > MAX_MESSAGE_BYTES:
        raise ContractError(f"too large ({len(data)} bytes > {MAX_MESSAGE_BYTES})")
    try:
        msg = _ADAPTER.validate_json(data)
    except ValidationError as error:
        raise ContractError.from_validation_error(error) from None
    # schema_version defaults to 1 in Python, but the wire must say which version it is.
    if "schema_version" not in msg.model_fields_set:
        raise ContractError(
            "required field is missing; v1 messages carry schema_version 1",
            f"{msg.kind}.schema_version",
        )
    return msg
