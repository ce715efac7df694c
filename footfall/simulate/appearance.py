"""How well appearance tells people apart: the same figures for real Re-ID and for the simulator.

:func:`separation` scores labelled, L2-normalised embeddings: the cosine similarity of pairs of
the same person and of different people (mean, std, quantiles), how far apart the two are
(``auc``: the probability that a same-person pair is more similar than a different-person pair;
``d_prime``: the gap of the means over their pooled standard deviation) and retrieval (each
embedding queried against all the others: mean average precision and rank-1). Retrieval depends
on how many people the gallery holds; :func:`separation` with ``people`` draws that many people
several times and averages, so a simulator with hundreds of visitors is compared with a real clip
of a few dozen on equal terms.

:func:`tracklet_embeddings` runs a scenario's simulation (shortened to ``duration_s``) and
returns the embedding of every tracklet it ended with the person most of its frames showed. The
scenario's appearance parameters (:class:`~footfall.simulate.scenarios.Errors`
``embedding_noise``, ``lookalike_fraction``, ``lookalike_similarity``) are calibrated so these
figures match a measured real embedder (``bench/reid/bench_reid_separation.py``; README,
"Simulator").
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from footfall.contract import TrackletEnded
from footfall.simulate.scenarios import Scenario, with_overrides
from footfall.simulate.sim import Simulation
from footfall.site import load_site

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


@dataclass(frozen=True)
class Separation:
    """Same-person against different-person cosine similarity, and retrieval."""

    items: int
    people: int
    same_pairs: int
    diff_pairs: int
    same_mean: float
    same_std: float
    same_q: tuple[float, ...]
    diff_mean: float
    diff_std: float
    diff_q: tuple[float, ...]
    auc: float
    d_prime: float
    map: float
    rank1: float

    def _scaled(self, c: float) -> float:
        return (c - self.diff_mean) / (1.0 - self.diff_mean)

    @property
    def scaled(self) -> tuple[float, float, float]:
        """(same mean, same std, different std) on the scale where different people average 0
        and identical vectors 1 — how the simulator (whose unrelated people are at 0) is compared
        with a real embedder (whose unrelated people are at its own, higher, mean)."""
        k = 1.0 - self.diff_mean
        return (self._scaled(self.same_mean), self.same_std / k, self.diff_std / k)

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()
        }
        out["scaled_same_mean"], out["scaled_same_std"], out["scaled_diff_std"] = self.scaled
        return out


def _auc(same: np.ndarray, diff: np.ndarray) -> float:
    """P(same > diff) + ½ P(same = diff) (the Mann-Whitney statistic), by ranks."""
    scores = np.concatenate([same, diff])
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    # average ranks of ties
    sorted_scores = scores[order]
    _, start, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    for s, c in zip(start.tolist(), counts.tolist(), strict=True):
        if c > 1:
            ranks[order[s : s + c]] = s + (c + 1) / 2.0
    n1, n2 = len(same), len(diff)
    return float((ranks[:n1].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n2))


def _retrieval(sim: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Mean average precision and rank-1 of every item queried against all the others (items
    whose person has no other item are no query)."""
    aps: list[float] = []
    hits: list[float] = []
    n = len(labels)
    for q in range(n):
        others = np.arange(n) != q
        relevant = labels[others] == labels[q]
        if not relevant.any():
            continue
        order = np.argsort(-sim[q, others], kind="stable")
        rel = relevant[order]
        ranks = np.flatnonzero(rel) + 1
        aps.append(float(np.mean(np.arange(1, len(ranks) + 1) / ranks)))
        hits.append(float(rel[0]))
    return (float(np.mean(aps)) if aps else 0.0, float(np.mean(hits)) if hits else 0.0)


def separation(
    embeddings: np.ndarray,
    labels: np.ndarray,
    people: int | None = None,
    draws: int = 5,
    seed: int = 0,
) -> Separation:
    """The figures of L2-normalised ``embeddings`` (N, D) of persons ``labels`` (N,); with
    ``people``, retrieval averaged over ``draws`` galleries of that many people drawn at random
    (the similarity distributions always use everything)."""
    x = np.asarray(embeddings, np.float64)
    y = np.asarray(labels)
    if len(x) != len(y) or len(x) < 2:
        raise ValueError(f"need at least 2 labelled embeddings, got {len(x)} and {len(y)} labels")
    sim = x @ x.T
    iu = np.triu_indices(len(y), k=1)
    same_mask = y[iu[0]] == y[iu[1]]
    s = sim[iu]
    same, diff = s[same_mask], s[~same_mask]
    if not len(same) or not len(diff):
        raise ValueError("need pairs of the same person and pairs of different people")
    ids = np.unique(y)
    if people is None or people >= len(ids):
        m, r1 = _retrieval(sim, y)
    else:
        rng = np.random.default_rng(seed)
        runs = []
        for _ in range(draws):
            pick = np.isin(y, rng.choice(ids, size=people, replace=False))
            runs.append(_retrieval(sim[np.ix_(pick, pick)], y[pick]))
        m, r1 = float(np.mean([a for a, _ in runs])), float(np.mean([b for _, b in runs]))
    pooled = float(np.sqrt((same.var() + diff.var()) / 2.0))
    return Separation(
        items=len(y),
        people=len(ids),
        same_pairs=len(same),
        diff_pairs=len(diff),
        same_mean=float(same.mean()),
        same_std=float(same.std()),
        same_q=tuple(float(v) for v in np.quantile(same, QUANTILES)),
        diff_mean=float(diff.mean()),
        diff_std=float(diff.std()),
        diff_q=tuple(float(v) for v in np.quantile(diff, QUANTILES)),
        auc=_auc(same, diff),
        d_prime=float((same.mean() - diff.mean()) / pooled) if pooled > 0 else float("inf"),
        map=m,
        rank1=r1,
    )


def tracklet_embeddings(
    scenario: Scenario, seed: int = 1, duration_s: float = 600.0
) -> tuple[np.ndarray, np.ndarray]:
    """(embeddings (N, D), person (N,)) of the tracklets of ``scenario`` run for ``duration_s``
    (its own errors and crowd); each tracklet labelled with the person most of its frames showed
    (false tracks keep their own negative ids)."""
    sc = with_overrides(scenario, duration_s=min(duration_s, scenario.duration_s))
    simulation = Simulation(load_site(sc.site), sc, seed=seed)
    ended = [m for chunk in simulation.chunks() for m in chunk if isinstance(m, TrackletEnded)]
    vectors, labels = [], []
    for m in ended:
        people = simulation.truth.tracks.get((m.camera_id, m.run_id, m.track_id))
        if not people or m.embedding is None:
            continue
        vectors.append(m.embedding)
        labels.append(people.most_common(1)[0][0])
    return np.asarray(vectors, np.float64), np.asarray(labels)
