"""``footfall simulate``: options that work only with another are usage errors (issue 19), and
``--live`` stamps the window from now (issue 16: a live dashboard is fed on the wall clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from footfall.cli import main
from footfall.contract import FrameObservations
from footfall.simulate import Simulation, scenario, with_overrides
from footfall.site import load_site

STACK = "--evaluate (without --in-process)"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--database-url", "postgresql://x/y"], f"--database-url works only with {STACK}"),
        (
            ["--evaluate", "--in-process", "--database-url", "postgresql://x/y"],
            f"--database-url works only with {STACK}",
        ),
        (
            ["--bootstrap-servers", "127.0.0.1:9092"],
            f"--bootstrap-servers works only with --publish or {STACK}",
        ),
        (
            ["--evaluate", "--in-process", "--bootstrap-servers", "127.0.0.1:9092"],
            f"--bootstrap-servers works only with --publish or {STACK}",
        ),
        (["--delay-s", "5"], "--delay-s works only with --evaluate"),
        (["--ttl-s", "60"], "--ttl-s works only with --evaluate"),
        (["--live"], "--live works only with --publish"),
        (["--publish", "--live", "--speed", "2"], "--live publishes in real time"),
        (["--publish", "--live", "--evaluate"], "--live and --evaluate do not go together"),
    ],
)
def test_an_option_without_the_one_it_works_with_is_a_usage_error(
    args: list[str], message: str
) -> None:
    result = CliRunner().invoke(main, ["simulate", "--scenario", "smoke", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_given_start_stamps_the_window_from_it_with_the_same_crowd() -> None:
    sc = with_overrides(scenario("smoke"), duration_s=30.0)
    site = load_site(sc.site)
    start = datetime.now(UTC).replace(microsecond=0)
    dated = Simulation(site, sc, seed=2)
    live = Simulation(site, sc, seed=2, start=start)
    assert live.t0 == start
    assert dated.t0.date().isoformat() == sc.date  # the scenario's own day otherwise
    shift = start - dated.t0
    a = [m for m in dated.messages() if isinstance(m, FrameObservations)]
    b = [m for m in live.messages() if isinstance(m, FrameObservations)]
    assert a and len(a) == len(b)
    # Same people, same tracks: only the clock moved.
    assert [m.captured_at + shift for m in a] == [m.captured_at for m in b]
    assert [len(m.tracks) for m in a] == [len(m.tracks) for m in b]
    skew = timedelta(seconds=sc.errors.clock_skew_s)
    assert all(start - skew <= m.captured_at <= start + timedelta(seconds=30) + skew for m in b)


def test_a_naive_start_is_refused() -> None:
    sc = scenario("smoke")
    with pytest.raises(ValueError, match="no UTC offset"):
        Simulation(load_site(sc.site), sc, start=datetime(2026, 1, 1))
