"""A durable, bounded, append-only on-disk queue of opaque records: the publisher's spool.

Every record gets a sequence number (``seq``, 0, 1, 2, … for the life of the spool folder) and is
appended to the newest *segment* file. One reader takes records in order (:meth:`Spool.read`) and
later says how far they are done (:meth:`Spool.ack`); whole segments below that point are
deleted. The acknowledged point (the *frontier*) and a small JSON dict of the caller's own state
are kept in ``state.json``, so a new process on the same folder continues where the last one
stopped.

On disk, in ``DIR``:

* ``seg-<first seq, 16 digits>.log`` -- records, each ``<len u32><crc32 u32><seq u64><payload>``
  (little endian); the CRC covers ``seq`` and the payload. A write torn by a crash is found when
  the folder is opened (short or failing record at the end of the newest segment) and cut off
  with one log line.
* ``state.json`` -- ``{"spool_id", "frontier", "meta"}``, replaced atomically (write, rename).

The spool is bounded by ``max_bytes`` (segment bytes on disk). When an append takes it over the
bound, the oldest whole segments are dropped -- even if they were never sent -- and the records
that had not been handed to the reader yet are counted in :attr:`Spool.dropped`, with one warning
per drop.

Durability (``fsync``): ``"always"`` syncs every append and every state change (survives power
loss, slowest); ``"interval"`` (default) syncs at most every ``fsync_interval_s`` and on
:meth:`sync`/:meth:`close` (a process crash loses nothing, a power loss at most that interval);
``"never"`` leaves it to the operating system.

Thread safety: ``append`` may be called from one thread while another reads and acknowledges.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import struct
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final, Literal

__all__ = ["FsyncPolicy", "Spool", "SpoolRecord"]

log = logging.getLogger(__name__)

FsyncPolicy = Literal["always", "interval", "never"]

_HEADER: Final = struct.Struct("<IIQ")  # payload length, crc32(seq + payload), seq
_SEQ: Final = struct.Struct("<Q")
_MAX_RECORD_BYTES: Final = 64 * 1024 * 1024
_STATE: Final = "state.json"
_PREFIX: Final = "seg-"
_SUFFIX: Final = ".log"
_TOO_BIG: Final = object()


@dataclass(frozen=True)
class SpoolRecord:
    """One spooled record: its sequence number and the bytes that were appended."""

    seq: int
    payload: bytes


@dataclass
class _Segment:
    path: Path
    first_seq: int
    count: int
    size: int  # bytes on disk

    @property
    def end_seq(self) -> int:
        """One past the last record's seq."""
        return self.first_seq + self.count


def _crc(seq: int, payload: bytes) -> int:
    return zlib.crc32(payload, zlib.crc32(_SEQ.pack(seq))) & 0xFFFFFFFF


def _encode(seq: int, payload: bytes) -> bytes:
    return _HEADER.pack(len(payload), _crc(seq, payload), seq) + payload


def _scan(path: Path, first_seq: int) -> tuple[int, int, str | None]:
    """(records, bytes of valid records, problem) for one segment file, checking every CRC."""
    data = path.read_bytes()
    offset = count = 0
    while offset < len(data):
        if len(data) - offset < _HEADER.size:
            return count, offset, "a record header is cut short"
        length, crc, seq = _HEADER.unpack_from(data, offset)
        end = offset + _HEADER.size + length
        if length > _MAX_RECORD_BYTES or end > len(data):
            return count, offset, "a record is cut short"
        if seq != first_seq + count:
            return count, offset, f"record seq {seq} where {first_seq + count} was expected"
        if _crc(seq, data[offset + _HEADER.size : end]) != crc:
            return count, offset, "a record fails its CRC check"
        offset = end
        count += 1
    return count, offset, None


class Spool:
    """Durable FIFO of byte records in ``directory``, bounded by ``max_bytes`` (drop-oldest).

    ``segment_bytes`` is the size at which a new segment file is started (default: an eighth of
    ``max_bytes``, between 4 KiB and 16 MiB); the bound is enforced in whole segments.
    """

    def __init__(
        self,
        directory: Path | str,
        *,
        max_bytes: int = 256 * 1024 * 1024,
        segment_bytes: int | None = None,
        fsync: FsyncPolicy = "interval",
        fsync_interval_s: float = 1.0,
    ) -> None:
        if max_bytes < 4096:
            raise ValueError(f"max_bytes must be at least 4096 (got {max_bytes})")
        if fsync not in ("always", "interval", "never"):
            raise ValueError(f"fsync must be 'always', 'interval' or 'never' (got {fsync!r})")
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        default_segment = min(16 * 1024 * 1024, max(4096, max_bytes // 8))
        self.segment_bytes = min(segment_bytes or default_segment, max_bytes)
        self.fsync: FsyncPolicy = fsync
        self.fsync_interval_s = fsync_interval_s
        self.dropped = 0
        """Records dropped unsent because the spool was over ``max_bytes`` (or corrupt)."""
        self.drop_events = 0
        self._lock = threading.Condition()
        self._segments: list[_Segment] = []
        self._fd: int | None = None  # the newest segment, open for appending
        self._reader: tuple[int, BinaryIO] | None = None  # (segment first_seq, open file)
        self._read_offset = 0  # byte offset of record _read_seq in the reader's segment
        self._dirty_since: float | None = None
        self._closed = False
        self.directory.mkdir(parents=True, exist_ok=True)
        self._load()

    # ------------------------------------------------------------------ opening

    def _load(self) -> None:
        state: dict[str, Any] = {}
        state_path = self.directory / _STATE
        if state_path.exists():
            try:
                state = json.loads(state_path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                log.warning(
                    "spool %s: unreadable %s (%s); starting over", self.directory, _STATE, exc
                )
        self.spool_id: str = str(state.get("spool_id") or secrets.token_hex(8))
        self._meta: dict[str, Any] = dict(state.get("meta") or {})
        frontier = int(state.get("frontier") or 0)

        paths = sorted(self.directory.glob(f"{_PREFIX}*{_SUFFIX}"))
        for i, path in enumerate(paths):
            try:
                first_seq = int(path.name[len(_PREFIX) : -len(_SUFFIX)])
            except ValueError:
                log.warning("spool %s: ignoring unexpected file %s", self.directory, path.name)
                continue
            count, size, problem = _scan(path, first_seq)
            if problem is not None:
                newest = i == len(paths) - 1
                lost = "the end of the newest segment (a write torn by a crash)" if newest else ""
                log.warning(
                    "spool %s: %s in %s at byte %d; cutting it off there%s",
                    self.directory,
                    problem,
                    path.name,
                    size,
                    f" ({lost})" if lost else "",
                )
                with path.open("r+b") as handle:
                    handle.truncate(size)
            if self._segments and first_seq != self._segments[-1].end_seq:
                gap_from = self._segments[-1].end_seq
                log.warning(
                    "spool %s: records %d..%d are missing before %s",
                    self.directory,
                    gap_from,
                    first_seq - 1,
                    path.name,
                )
                self.dropped += max(0, first_seq - max(gap_from, frontier))
            self._segments.append(_Segment(path, first_seq, count, size))

        # Records below the frontier are done; segments wholly below it go.
        if self._segments:
            frontier = max(frontier, self._segments[0].first_seq)
        self._frontier = frontier
        self._delete_done_segments(keep_newest=False)
        if self._segments and self._segments[-1].end_seq < frontier:  # pragma: no cover
            frontier = self._segments[-1].end_seq
            self._frontier = frontier
        self._next_seq = self._segments[-1].end_seq if self._segments else frontier
        self._read_seq = self._frontier
        self._write_state()

    # ------------------------------------------------------------------ properties

    @property
    def frontier(self) -> int:
        """Every record with a smaller seq is acknowledged (or dropped)."""
        return self._frontier

    @property
    def next_seq(self) -> int:
        """The seq the next append gets."""
        return self._next_seq

    @property
    def pending(self) -> int:
        """Records not acknowledged yet (including those handed to the reader)."""
        return self._next_seq - self._frontier

    @property
    def unread(self) -> int:
        """Records not handed to the reader yet."""
        return self._next_seq - self._read_seq

    @property
    def size_bytes(self) -> int:
        """Bytes of segment files on disk."""
        return sum(segment.size for segment in self._segments)

    @property
    def meta(self) -> dict[str, Any]:
        """The caller's state, as last passed to :meth:`ack` or :meth:`set_meta`."""
        return dict(self._meta)

    # ------------------------------------------------------------------ writing

    def append(self, payload: bytes) -> int:
        """Append one record; returns its seq. Drops the oldest segments if over ``max_bytes``."""
        if len(payload) > _MAX_RECORD_BYTES:
            raise ValueError(f"record of {len(payload)} bytes is over {_MAX_RECORD_BYTES}")
        with self._lock:
            if self._closed:
                raise RuntimeError("append() on a closed spool")
            segment = self._segments[-1] if self._segments else None
            if segment is None or self._fd is None or segment.size >= self.segment_bytes:
                segment = self._roll()
            seq = self._next_seq
            data = _encode(seq, payload)
            assert self._fd is not None
            os.write(self._fd, data)
            segment.count += 1
            segment.size += len(data)
            self._next_seq = seq + 1
            self._maybe_sync()
            if self.size_bytes > self.max_bytes:
                self._drop_oldest()
            self._lock.notify_all()
            return seq

    def _roll(self) -> _Segment:
        if self._fd is not None:
            if self.fsync != "never":
                os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None
        newest = self._segments[-1] if self._segments else None
        if newest is not None and newest.size < self.segment_bytes:
            segment = newest  # reopen after a restart: keep filling the newest segment
        else:
            path = self.directory / f"{_PREFIX}{self._next_seq:016d}{_SUFFIX}"
            segment = _Segment(path, self._next_seq, 0, 0)
            self._segments.append(segment)
        self._fd = os.open(segment.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        if segment.size == 0 and self.fsync != "never":
            self._sync_dir()
        return segment

    def _drop_oldest(self) -> None:
        dropped = dropped_bytes = 0
        names = []
        while self.size_bytes > self.max_bytes and len(self._segments) > 1:
            segment = self._segments.pop(0)
            unread = max(0, segment.end_seq - max(self._read_seq, segment.first_seq))
            dropped += unread
            dropped_bytes += segment.size
            names.append(segment.path.name)
            segment.path.unlink(missing_ok=True)
            self._frontier = max(self._frontier, segment.end_seq)
            if self._read_seq < segment.end_seq:
                self._read_seq = segment.end_seq
            if self._reader is not None and self._reader[0] == segment.first_seq:
                self._close_reader()
        if not names:
            return
        self.dropped += dropped
        self.drop_events += 1
        log.warning(
            "spool %s is over its %d-byte limit: dropped the oldest %d unsent messages "
            "(%d bytes, %s); %d dropped in all",
            self.directory,
            self.max_bytes,
            dropped,
            dropped_bytes,
            ", ".join(names),
            self.dropped,
        )
        self._write_state()

    def _maybe_sync(self) -> None:
        if self.fsync == "never" or self._fd is None:
            return
        now = time.monotonic()
        if self.fsync == "always":
            os.fsync(self._fd)
            return
        if self._dirty_since is None:
            self._dirty_since = now
        elif now - self._dirty_since >= self.fsync_interval_s:
            os.fsync(self._fd)
            self._dirty_since = None

    def sync(self) -> None:
        """Make every appended record durable now (whatever the fsync policy)."""
        with self._lock:
            if self._fd is not None:
                os.fsync(self._fd)
            self._dirty_since = None

    # ------------------------------------------------------------------ reading

    def wait(self, timeout_s: float) -> bool:
        """Block until there is an unread record (True) or ``timeout_s`` passes (False)."""
        with self._lock:
            return self._lock.wait_for(lambda: self.unread > 0 or self._closed, timeout_s) and (
                self.unread > 0
            )

    def read(self, max_records: int, max_bytes: int) -> list[SpoolRecord]:
        """Hand out the next unread records in seq order: at most ``max_records``, and at most
        ``max_bytes`` of payload unless the first record alone is bigger."""
        out: list[SpoolRecord] = []
        total = 0
        with self._lock:
            while self.unread > 0 and len(out) < max_records:
                record = self._read_one(None if not out else max_bytes - total)
                if record is _TOO_BIG:
                    break
                if isinstance(record, SpoolRecord):
                    out.append(record)
                    total += len(record.payload)
        return out

    def _segment_for(self, seq: int) -> _Segment | None:
        for segment in self._segments:
            if segment.first_seq <= seq < segment.end_seq:
                return segment
        return None

    def _reader_for(self, segment: _Segment) -> BinaryIO:
        if self._reader is not None and self._reader[0] == segment.first_seq:
            return self._reader[1]
        self._close_reader()
        handle = segment.path.open("rb")
        self._reader = (segment.first_seq, handle)
        # Find the byte offset of the next unread record by walking the headers.
        offset = 0
        for _ in range(self._read_seq - segment.first_seq):
            handle.seek(offset)
            length = _HEADER.unpack(handle.read(_HEADER.size))[0]
            offset += _HEADER.size + length
        self._read_offset = offset
        return handle

    def _close_reader(self) -> None:
        if self._reader is not None:
            self._reader[1].close()
            self._reader = None

    def _read_one(self, budget: int | None) -> SpoolRecord | object | None:
        """The next unread record; ``_TOO_BIG`` if its payload is over ``budget`` (then it stays
        unread); None if a corrupt stretch was skipped."""
        segment = self._segment_for(self._read_seq)
        if segment is None:  # pragma: no cover - the invariants keep unread records on disk
            self._read_seq = self._next_seq
            return None
        problem = None
        try:
            handle = self._reader_for(segment)
            handle.seek(self._read_offset)
            header = handle.read(_HEADER.size)
            if len(header) < _HEADER.size:
                problem = "a record header is cut short"
            else:
                length, crc, seq = _HEADER.unpack(header)
                if budget is not None and length > budget:
                    return _TOO_BIG
                payload = handle.read(length)
                if len(payload) < length:
                    problem = "a record is cut short"
                elif seq != self._read_seq or _crc(seq, payload) != crc:
                    problem = "a record fails its CRC check"
        except (OSError, struct.error) as exc:
            problem = f"reading failed ({exc})"
        if problem is None:
            self._read_offset += _HEADER.size + length
            self._read_seq = seq + 1
            return SpoolRecord(seq, payload)
        lost = segment.end_seq - self._read_seq
        log.warning(
            "spool %s: %s in %s at byte %d; skipping the %d records from there",
            self.directory,
            problem,
            segment.path.name,
            self._read_offset,
            lost,
        )
        self.dropped += lost
        self._read_seq = segment.end_seq
        self._close_reader()
        return None

    # ------------------------------------------------------------------ acknowledging

    def ack(self, up_to_seq: int, meta: dict[str, Any] | None = None) -> None:
        """Records with seq < ``up_to_seq`` are done: forget them; store ``meta`` with that."""
        with self._lock:
            if up_to_seq > self._next_seq:
                raise ValueError(f"ack({up_to_seq}) beyond the last record ({self._next_seq - 1})")
            self._frontier = max(self._frontier, up_to_seq)
            if self._read_seq < self._frontier:  # records dropped or acknowledged unread
                self._read_seq = self._frontier
                self._close_reader()
            if meta is not None:
                self._meta = dict(meta)
            self._delete_done_segments(keep_newest=True)
            self._write_state()
            self._lock.notify_all()

    def set_meta(self, meta: dict[str, Any]) -> None:
        """Store the caller's state without moving the frontier."""
        with self._lock:
            self._meta = dict(meta)
            self._write_state()

    def wait_drained(self, timeout_s: float | None) -> bool:
        """Block until every record is acknowledged (True) or ``timeout_s`` passes (False)."""
        with self._lock:
            return self._lock.wait_for(lambda: self.pending == 0, timeout_s)

    def _delete_done_segments(self, keep_newest: bool) -> None:
        while self._segments and self._segments[0].end_seq <= self._frontier:
            if keep_newest and len(self._segments) == 1:
                break
            segment = self._segments.pop(0)
            if self._reader is not None and self._reader[0] == segment.first_seq:
                self._close_reader()
            if self._fd is not None and not self._segments:
                os.close(self._fd)
                self._fd = None
            segment.path.unlink(missing_ok=True)

    def _write_state(self) -> None:
        state = {"spool_id": self.spool_id, "frontier": self._frontier, "meta": self._meta}
        path = self.directory / _STATE
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        try:
            os.write(fd, json.dumps(state, separators=(",", ":")).encode())
            if self.fsync == "always":
                os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)

    def _sync_dir(self) -> None:
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    # ------------------------------------------------------------------ closing

    def close(self) -> None:
        """Sync and close the newest segment; the folder can be opened again later."""
        with self._lock:
            if self._closed:
                return
            if self._fd is not None:
                if self.fsync != "never":
                    os.fsync(self._fd)
                os.close(self._fd)
                self._fd = None
            self._close_reader()
            self._write_state()
            if self.fsync != "never":
                self._sync_dir()
            self._closed = True
            self._lock.notify_all()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
