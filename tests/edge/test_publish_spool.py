"""The publisher's durable spool, without a broker: order, acknowledgement, restart, crashes,
the byte bound."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

import pytest

from edge.publish.spool import Spool


def _payload(i: int, size: int = 20) -> bytes:
    return f"message-{i:06d}-".encode().ljust(size, b".")


def _segments(directory: Path) -> list[Path]:
    return sorted(directory.glob("seg-*.log"))


def test_records_come_out_in_order_and_acknowledged_ones_are_forgotten(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    seqs = [spool.append(_payload(i)) for i in range(10)]
    assert seqs == list(range(10))
    assert spool.pending == 10 and spool.unread == 10

    first = spool.read(max_records=4, max_bytes=1 << 20)
    assert [r.seq for r in first] == [0, 1, 2, 3]
    assert [r.payload for r in first] == [_payload(i) for i in range(4)]
    assert spool.unread == 6 and spool.pending == 10

    spool.ack(4)
    assert spool.pending == 6 and spool.frontier == 4
    rest = spool.read(max_records=100, max_bytes=1 << 20)
    assert [r.seq for r in rest] == list(range(4, 10))
    assert spool.read(max_records=100, max_bytes=1 << 20) == []
    spool.ack(10)
    assert spool.pending == 0
    spool.close()


def test_read_respects_the_byte_budget_but_always_returns_one(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append(b"x" * 500)
    spool.append(b"y" * 10)
    spool.append(b"z" * 10)
    assert [r.seq for r in spool.read(100, max_bytes=100)] == [0]  # bigger than the budget alone
    assert [r.seq for r in spool.read(100, max_bytes=15)] == [1]
    assert [r.seq for r in spool.read(100, max_bytes=15)] == [2]


def test_a_new_spool_on_the_same_folder_continues_where_the_last_stopped(tmp_path: Path) -> None:
    spool = Spool(tmp_path, segment_bytes=4096)
    for i in range(500):  # several segments
        spool.append(_payload(i))
    assert len(_segments(tmp_path)) > 2
    spool.read(120, 1 << 20)
    spool.ack(120, meta={"offsets": {"t:0": 7}})
    spool_id = spool.spool_id
    spool.close()

    again = Spool(tmp_path, segment_bytes=4096)
    assert again.spool_id == spool_id
    assert again.meta == {"offsets": {"t:0": 7}}
    assert again.frontier == 120 and again.pending == 380
    records = again.read(1000, 1 << 20)
    assert [r.seq for r in records] == list(range(120, 500))
    assert records[0].payload == _payload(120)
    assert again.append(b"next") == 500  # numbering goes on
    again.close()


def test_fully_acknowledged_segments_are_deleted(tmp_path: Path) -> None:
    spool = Spool(tmp_path, segment_bytes=4096)
    for i in range(600):
        spool.append(_payload(i))
    before = len(_segments(tmp_path))
    spool.read(600, 1 << 20)
    spool.ack(600)
    assert before > 2
    assert len(_segments(tmp_path)) == 1  # the newest stays open for appending
    spool.close()
    assert Spool(tmp_path).pending == 0


def test_a_torn_last_write_is_cut_off_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = Spool(tmp_path)
    for i in range(5):
        spool.append(_payload(i))
    spool.close()
    segment = _segments(tmp_path)[-1]
    data = segment.read_bytes()
    segment.write_bytes(data[:-7])  # the crash tore the last record

    with caplog.at_level(logging.WARNING, logger="edge.publish.spool"):
        again = Spool(tmp_path)
    assert any("torn" in r.getMessage() for r in caplog.records)
    assert again.pending == 4
    assert [r.payload for r in again.read(10, 1 << 20)] == [_payload(i) for i in range(4)]
    assert again.append(b"after the crash") == 4  # the torn record's seq is reused
    again.close()
    assert [r.payload for r in Spool(tmp_path).read(10, 1 << 20)][-1] == b"after the crash"


def test_a_half_written_header_and_a_bad_crc_are_detected(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    for i in range(3):
        spool.append(_payload(i))
    spool.close()
    segment = _segments(tmp_path)[-1]
    segment.write_bytes(segment.read_bytes() + b"\x07\x00")  # two bytes of a next header
    assert Spool(tmp_path).pending == 3

    data = bytearray(segment.read_bytes())
    data[-3] ^= 0xFF  # flip a payload byte of the last record
    segment.write_bytes(bytes(data))
    again = Spool(tmp_path)
    assert again.pending == 2
    assert [r.seq for r in again.read(10, 1 << 20)] == [0, 1]


def test_over_the_byte_limit_the_oldest_segments_are_dropped_and_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="edge.publish.spool"):
        spool = Spool(tmp_path, max_bytes=8192, segment_bytes=1024)
        for i in range(1000):
            spool.append(_payload(i, size=40))
    assert spool.size_bytes <= 8192
    assert spool.dropped > 0
    assert spool.dropped + spool.pending == 1000  # nothing else lost, nothing counted twice
    drops = [r for r in caplog.records if "dropped the oldest" in r.getMessage()]
    assert len(drops) == spool.drop_events > 0  # one line per drop
    assert "8192-byte limit" in drops[0].getMessage()
    # What is left is the newest stretch, contiguous and in order.
    records = spool.read(10_000, 1 << 30)
    seqs = [r.seq for r in records]
    assert seqs == list(range(1000 - len(seqs), 1000))
    assert records[-1].payload == _payload(999, size=40)

    # The frontier moved past the dropped records: that survives a restart.
    spool.close()
    again = Spool(tmp_path, max_bytes=8192, segment_bytes=1024)
    assert again.pending == len(seqs)


def test_records_already_handed_out_are_not_counted_as_dropped(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=4096, segment_bytes=1024)
    for i in range(20):
        spool.append(_payload(i, size=40))
    handed_out = spool.read(20, 1 << 20)  # the sender has them in flight
    assert len(handed_out) == 20
    for i in range(20, 200):
        spool.append(_payload(i, size=40))
    assert spool.dropped + spool.pending + 20 == 200
    spool.ack(20)  # the late acknowledgement of dropped records is harmless
    assert [r.seq for r in spool.read(1000, 1 << 20)][-1] == 199


def test_state_file_is_json_with_the_frontier(tmp_path: Path) -> None:
    spool = Spool(tmp_path, fsync="always")
    spool.append(b"a")
    spool.append(b"b")
    spool.read(1, 100)
    spool.ack(1, meta={"clean": False})
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["frontier"] == 1 and state["meta"] == {"clean": False}
    assert len(state["spool_id"]) == 16
    with pytest.raises(ValueError, match="beyond the last record"):
        spool.ack(5)


def test_a_reader_waits_for_records_and_for_the_drain(tmp_path: Path) -> None:
    spool = Spool(tmp_path, fsync="never")
    assert spool.wait(0.01) is False
    assert spool.wait_drained(0.01) is True

    def writer() -> None:
        for i in range(50):
            spool.append(_payload(i))

    thread = threading.Thread(target=writer)
    thread.start()
    got: list[int] = []
    while len(got) < 50:
        assert spool.wait(5.0)
        got.extend(r.seq for r in spool.read(7, 1 << 20))
        spool.ack(got[-1] + 1)
    thread.join()
    assert got == list(range(50))
    assert spool.wait_drained(1.0) is True


def test_bad_settings_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        Spool(tmp_path, max_bytes=100)
    with pytest.raises(ValueError, match="fsync"):
        Spool(tmp_path, fsync="sometimes")  # type: ignore[arg-type]
