"""A tracklet end may carry no appearance (a camera without pixels): all three fields absent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from pydantic import ValidationError

from footfall.contract import TrackletEnded, decode, encode

T0 = datetime(2026, 1, 1, 12, tzinfo=UTC)
ENVELOPE = {
    "site_id": "s",
    "camera_id": "c",
    "node_id": "n",
    "run_id": "0123456789abcdef",
    "track_id": "89abcdef",
    "started_at": T0,
    "ended_at": T0 + timedelta(seconds=3),
    "frame_count": 21,
}
UNIT = tuple(float(v) for v in np.ones(64) / 8.0)


def test_without_embedding_round_trips() -> None:
    end = TrackletEnded(**ENVELOPE)
    assert decode(encode(end)) == end
    assert b"embedding" not in encode(end) or b'"embedding":null' in encode(end)


def test_with_embedding_is_unchanged() -> None:
    end = TrackletEnded(**ENVELOPE, embedding=UNIT, embedding_model="m", quality=0.5)
    assert decode(encode(end)).embedding == UNIT


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"embedding": UNIT, "quality": 0.5}, "embedding_model is required"),
        ({"embedding_model": "m"}, "embedding_model is given without an embedding"),
        ({"embedding": UNIT, "embedding_model": "m"}, "quality is required"),
        ({"quality": 0.5}, "quality is given without an embedding"),
    ],
)
def test_half_an_appearance_is_refused(extra: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        TrackletEnded(**ENVELOPE, **extra)
