"""`footfall cloud api` logs requests only when asked (--access-log); by default a load
balancer's probes leave the log alone (issue 19: uvicorn logged every request)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from dashboard_replay import free_port

from footfall.stack import StackProfile

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
DEMO_SITE = REPO / "configs" / "sites" / "demo.yaml"


def _served_log(database_url: str, servers: str, port: int, *extra: str) -> str:
    """Start the API, ask /healthz three times, stop it; what it logged."""
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "footfall.cli", "cloud", "api", "--database-url", database_url,
            "--bootstrap-servers", servers, "--site", str(DEMO_SITE), "--port", str(port), *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        answered = 0
        deadline = time.monotonic() + 60
        while answered < 3 and time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    answered += r.status == 200
            except OSError:
                assert proc.poll() is None, proc.communicate()[0]
                time.sleep(0.3)
        assert answered == 3
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return out


def test_requests_are_logged_only_with_access_log(
    database_url: str, local_stack: StackProfile
) -> None:
    quiet = _served_log(database_url, local_stack.bootstrap_servers, free_port())
    assert "Application startup complete" in quiet  # it does log, just not every request
    assert "GET /healthz" not in quiet
    loud = _served_log(database_url, local_stack.bootstrap_servers, free_port(), "--access-log")
    assert loud.count('"GET /healthz HTTP/1.1" 200') == 3
