"""Scratch databases are dropped after every harness that makes one: the helper itself (after
use and after an error; ``keep`` keeps), ``footfall simulate --evaluate`` through the real
stack, and the end-to-end evaluation on a stack of its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

import footfall.stack
from footfall.evaluation.end_to_end import EndToEndRunner
from footfall.evaluation.scratch import drop_database, scratch_database, server_url
from footfall.evaluation.stitching_stack import evaluate_through_stack
from footfall.simulate import Simulation, scenario
from footfall.site import load_site
from footfall.stack import StackProfile

pytestmark = pytest.mark.integration


def databases(stack: StackProfile) -> set[str]:
    with psycopg.connect(server_url(stack.database_url, "postgres")) as conn:
        return {r[0] for r in conn.execute("SELECT datname FROM pg_database").fetchall()}


def test_scratch_database_is_dropped_after_use_and_after_an_error(
    local_stack: StackProfile,
) -> None:
    before = databases(local_stack)
    with scratch_database(local_stack.database_url, "probe") as url:
        name = url.rpartition("/")[2]
        assert name.startswith("probe_") and name in databases(local_stack)
        assert databases(local_stack) - before == {name}
        left_open = psycopg.connect(url)
        row = left_open.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'")
        assert row.fetchone() == (1,)
    assert databases(local_stack) == before  # dropped although a connection was left open
    left_open.close()

    with pytest.raises(KeyError), scratch_database(local_stack.database_url, "probe") as url:
        raise KeyError(url)
    assert databases(local_stack) == before

    with scratch_database(local_stack.database_url, "probe", keep=True) as url:
        pass
    name = url.rpartition("/")[2]
    assert databases(local_stack) == before | {name}
    drop_database(local_stack.database_url, name)
    assert databases(local_stack) == before


def test_simulate_evaluate_through_the_stack_drops_its_database(
    local_stack: StackProfile, bootstrap_servers: str
) -> None:
    sc = scenario("smoke")
    site = load_site(sc.site)
    sim = Simulation(site, sc, seed=11)
    before = databases(local_stack)
    seen: list[str] = []
    out = evaluate_through_stack(
        site,
        sim.truth,
        list(sim.chunks()),
        local_stack.database_url,
        bootstrap_servers,
        progress=seen.append,
    )
    assert databases(local_stack) == before
    assert out["tracklets"] == len(sim.truth.tracks)
    assert set(out["modes"]) == {"local", "appearance", "spacetime", "combined"}
    assert out["modes"]["combined"]["mtmc_idf1"] >= 0.8  # Re-ID as hard as real: README
    assert any(line.startswith("ingested and derived") for line in seen)


def test_end_to_end_on_its_own_stack_drops_its_scratch_database(
    local_stack: StackProfile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The runner starts a stack of its own (here: the tests' stack, neither started nor
    stopped again) and makes a scratch database there for the chain; it is gone afterwards,
    whether the chain succeeds or fails."""
    monkeypatch.setattr(footfall.stack, "profile_for", lambda *a, **k: local_stack)
    monkeypatch.setattr(footfall.stack, "stack_up", lambda *a, **k: None)
    monkeypatch.setattr(footfall.stack, "stack_down", lambda *a, **k: None)
    before = databases(local_stack)
    used: list[str] = []

    def chain(self: EndToEndRunner, manifest: Any, results: Any, url: str, bootstrap: str) -> Any:
        used.append(url.rpartition("/")[2])
        assert used[-1] in databases(local_stack)
        if len(used) > 1:
            raise RuntimeError("the chain failed")
        return {"ok": True}

    monkeypatch.setattr(EndToEndRunner, "_run", chain)
    runner = EndToEndRunner(tmp_path / "e2e")
    assert runner(None, None) == {"ok": True}  # type: ignore[arg-type]
    assert databases(local_stack) == before
    with pytest.raises(RuntimeError, match="the chain failed"):
        runner(None, None)  # type: ignore[arg-type]
    assert databases(local_stack) == before
    assert len(used) == 2 and all(name.startswith("eval_") for name in used)
