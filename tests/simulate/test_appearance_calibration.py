"""The simulator's appearance is calibrated to real Re-ID: its tracklets are as hard to tell
apart as the real embedder each scenario names (README, "Simulator"), and the figures that say so
are computed right."""

from __future__ import annotations

import numpy as np
import pytest

from footfall.simulate import scenario, with_overrides
from footfall.simulate.appearance import separation, tracklet_embeddings

BAND = 0.03
"""How far a scenario's AUC may land from the real embedder's it is calibrated to."""


@pytest.mark.parametrize(
    ("name", "duration_s"),
    [("smoke", 300.0), ("light", 300.0), ("moderate", 300.0), ("hard", 200.0)],
)
def test_scenario_appearance_is_as_hard_as_the_real_embedder_it_names(
    name: str, duration_s: float
) -> None:
    sc = scenario(name)
    assert sc.appearance_auc is not None and sc.appearance_like
    x, y = tracklet_embeddings(sc, duration_s=duration_s)
    s = separation(x, y, people=19)
    assert abs(s.auc - sc.appearance_auc) <= BAND, (name, s.auc, sc.appearance_auc)
    # unrelated people are centred on 0, same-person tracklets clearly above
    assert abs(s.diff_mean) < 0.1
    assert s.same_mean > s.diff_mean + 0.3


def test_calibrated_scenarios_get_harder_in_order() -> None:
    aucs = [scenario(n).appearance_auc for n in ("smoke", "light", "moderate", "hard")]
    assert all(a is not None for a in aucs)
    assert aucs == sorted(aucs, reverse=True)


def test_uncalibrated_appearance_is_kinder_than_real_reid() -> None:
    """The old noise model (whole-space identities, equal noise) separates perfectly: what the
    calibration corrects."""
    sc = scenario("smoke")
    kind = with_overrides(
        sc,
        errors=type(sc.errors)(switch_per_min=2.0, embedding_noise=0.6),
    )
    x, y = tracklet_embeddings(kind, duration_s=300.0)
    assert separation(x, y).auc > 0.995
    assert sc.appearance_auc is not None and sc.appearance_auc < 0.98


def test_separation_figures_match_a_library() -> None:
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(6, 16))
    labels = np.repeat(np.arange(6), 5)
    x = centres[labels] + 0.8 * rng.normal(size=(30, 16))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    s = separation(x, labels)
    sim = x @ x.T
    iu = np.triu_indices(30, k=1)
    same = labels[iu[0]] == labels[iu[1]]
    assert s.auc == pytest.approx(metrics.roc_auc_score(same, sim[iu]))
    aps, r1 = [], []
    for q in range(30):
        others = np.arange(30) != q
        aps.append(metrics.average_precision_score(labels[others] == labels[q], sim[q, others]))
        r1.append(labels[others][np.argmax(sim[q, others])] == labels[q])
    assert s.map == pytest.approx(np.mean(aps))
    assert s.rank1 == pytest.approx(np.mean(r1))
    assert s.same_pairs == 6 * 10 and s.diff_pairs == 435 - 60
    assert 0.0 < s.auc < 1.0 and s.d_prime > 0


def test_separation_refuses_what_it_cannot_score() -> None:
    with pytest.raises(ValueError, match="pairs of the same person"):
        separation(np.eye(3), np.array([1, 2, 3]))
