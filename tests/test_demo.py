"""``footfall demo`` without a stack: its options, and the ground truth it prints the counts
next to (the same frames, the site's counting rules, :mod:`footfall.evaluation.counting`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from footfall.cli import main
from footfall.site import load_site

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


def test_port_without_serving_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["demo", "--no-serve", "--port", "8081"])
    assert result.exit_code == 2, result.output
    assert "--port works only with --serve" in result.output


def test_a_taken_port_is_one_sentence_before_anything_starts() -> None:
    import socket

    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        result = CliRunner().invoke(main, ["demo", "--port", str(port)])
    assert result.exit_code == 1, result.output
    assert f"Port {port} is taken" in result.output
    assert "footfall demo --port N" in result.output
    assert "local stack" not in result.output  # refused before the stack was touched


@pytest.mark.skipif(not (SHARED / "pets2009_s2l1").is_dir(), reason="no shared footage here")
def test_truth_counts_come_from_the_clips_with_ground_truth_over_the_frames_run() -> None:
    from footfall.demo import truth_counts

    site = load_site(ROOT / "configs" / "sites" / "demo.yaml")
    first = truth_counts(site, 100)
    whole = truth_counts(site, 100_000)
    # The demo cameras whose clips have ground truth (configs/eval/all.yaml); the Intel clip
    # has none.
    assert set(first) == set(whole) == {"pets-view1", "tud-stadtmitte"}
    for camera, lines in whole.items():
        assert set(lines) == {ln.id for ln in site.lines}
        for line_id, (t_in, t_out) in lines.items():
            f_in, f_out = first[camera][line_id]
            assert 0 <= f_in <= t_in and 0 <= f_out <= t_out  # more frames, more crossings
    gate = whole["pets-view1"]["plaza-east-gate-line"]
    assert sum(gate) > sum(first["pets-view1"]["plaza-east-gate-line"])
    # The plaza's lines are not in the street camera's view, and the other way round.
    assert whole["tud-stadtmitte"]["plaza-east-gate-line"] == (0, 0)
    assert whole["pets-view1"]["stadtmitte-midline"] == (0, 0)


def test_a_bad_site_is_one_sentence_before_anything_starts() -> None:
    result = CliRunner().invoke(main, ["demo", "--site", "no/such.yaml"])
    assert result.exit_code == 1, result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "no/such.yaml" in errors[0], result.output
    assert "local stack" not in result.output


def test_the_mall_must_be_another_site() -> None:
    site = "configs/sites/demo.yaml"
    result = CliRunner().invoke(main, ["demo", "--site", site, "--mall-site", site])
    assert result.exit_code == 1, result.output
    assert "has the site id 'demo'" in result.output
    assert "pass another --mall-site" in result.output


def test_a_child_that_exits_on_its_own_is_named_with_its_log(tmp_path: Path) -> None:
    from footfall.demo import _Children, _Stop, _supervise, died

    children = _Children(tmp_path)
    # The simulator ending its window (exit 0) is no failure; the API failing is.
    children.start("simulator", "ends at once", "--version")
    api = children.start("api", "fails", "cloud", "api", "--port", "0")
    stop = _Stop()
    try:
        failed = _supervise(children, stop)
    finally:
        stop.restore()
    assert failed is api
    assert [c.name for c in children.running] == ["api"]
    said = died(api)
    assert said.startswith("demo stopped: the api exited on its own (exit 2)")
    assert str(tmp_path / "demo-api.log") in said
    assert "Invalid value for '--port'" in said  # the log's last lines
    assert children.stop() == []


def test_stop_ends_every_child_and_kills_one_that_stays(tmp_path: Path) -> None:
    import os
    import sys
    import time

    from footfall.demo import _Children

    sleeper = (
        "import signal, sys, time; sys.argv[1:] == ['stay'] and "
        "signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(60)"
    )
    children = _Children(tmp_path, program=(sys.executable, "-c", sleeper))
    children.stop_wait_s = 2
    polite = children.start("ingest", "stops on SIGTERM")
    stubborn = children.start("api", "ignores SIGTERM", "stay")
    deadline = time.monotonic() + 30
    while "up" not in (tmp_path / "demo-api.log").read_text() and time.monotonic() < deadline:
        time.sleep(0.1)  # the handler is in place
    assert polite.process.poll() is None and stubborn.process.poll() is None
    assert children.stop() == ["api did not stop within 2 s and was killed"]
    assert polite.process.returncode == -15 and stubborn.process.returncode == -9
    for child in (polite, stubborn):
        with pytest.raises(ProcessLookupError):
            os.kill(child.process.pid, 0)


def test_the_live_demo_runs_the_cloud_workers_that_production_runs() -> None:
    """The long-running ``footfall cloud`` services of the production compose file (one-shot
    migrate aside) are the demo's cloud workers, the alerts worker among them."""
    import yaml

    from footfall.demo import cloud_workers

    compose = yaml.safe_load((ROOT / "deploy" / "production" / "compose.yaml").read_text())
    services = {
        s["command"][1]
        for s in compose["services"].values()
        if s.get("command", [None])[0] == "cloud" and s["command"][1] != "migrate"
    }
    workers = cloud_workers(["--database-url", "D"], ["--bootstrap-servers", "B"], [], 8080)
    assert {args[1] for _, _, args in workers} == services == {"ingest", "stitch", "alerts", "api"}
    assert [name for name, _, _ in workers] == ["ingest", "stitcher", "alerts", "api"]


def test_the_readme_transcript_lists_the_children_the_demo_starts() -> None:
    """The quick start's printed `make demo` output shows every supervised child, in the order
    and with the words the demo prints (it showed four after the alerts worker made five)."""
    import re

    from footfall.demo import cloud_workers

    readme = (ROOT / "README.md").read_text()
    transcript = readme.split("### Quick start: what `make demo` shows", 1)[1].split("```")[1]
    shown = re.findall(r"^  (\S+) +pid \d+ +(.+?)  \(log \.run/demo/logs/demo-\1\.log\)$",
                       transcript, re.M)  # fmt: skip
    workers = cloud_workers(["--database-url", "D"], ["--bootstrap-servers", "B"], [], 8080)
    expected = [(name, what) for name, what, _ in workers]
    assert shown[:-1] == expected and shown[-1][0] == "simulator", shown
