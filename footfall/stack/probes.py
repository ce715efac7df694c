"""Health checks that talk each service's own protocol, and a check for taken ports."""

from __future__ import annotations

import socket
import struct
import subprocess
import time
from collections.abc import Callable

from footfall.stack.profile import HOST


def port_is_free(port: int, host: str = HOST) -> bool:
    """True when nothing listens on ``host:port`` and we may bind it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def kafka_api_versions_ok(port: int, host: str = HOST, timeout_s: float = 2.0) -> bool:
    """Send a Kafka ApiVersions v0 request and check for a well-formed, error-free answer.

    A TCP connect alone would also succeed on a half-started broker or on some other program;
    this asks the broker a real protocol question.
    """
    client_id = b"footfall-probe"
    correlation_id = 7
    body = struct.pack(">hhih", 18, 0, correlation_id, len(client_id)) + client_id
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            sock.sendall(struct.pack(">i", len(body)) + body)
            header = _recv_exact(sock, 4)
            (size,) = struct.unpack(">i", header)
            payload = _recv_exact(sock, size)
    except OSError:
        return False
    if len(payload) < 6:
        return False
    got_correlation, error_code = struct.unpack(">ih", payload[:6])
    return bool(got_correlation == correlation_id and error_code == 0)


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    chunks = bytearray()
    while len(chunks) < n:
        chunk = sock.recv(n - len(chunks))
        if not chunk:
            raise OSError("connection closed")
        chunks.extend(chunk)
    return bytes(chunks)


def postgres_ready(port: int, host: str = HOST) -> bool:
    """``pg_isready`` against the cluster: accepting connections."""
    result = subprocess.run(
        ["pg_isready", "-q", "-h", host, "-p", str(port), "-t", "2"],
        check=False,
        capture_output=True,
    )
    return result.returncode == 0


def http_ok(port: int, path: str = "/", host: str = HOST, timeout_s: float = 2.0) -> bool:
    """Any HTTP answer at all (S3 answers 403 to anonymous requests, which is fine)."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            sock.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
            return sock.recv(12).startswith(b"HTTP/")
    except OSError:
        return False


def wait_until(check: Callable[[], bool], timeout_s: float, interval_s: float = 0.25) -> bool:
    """Poll ``check`` until it returns True or ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval_s)
