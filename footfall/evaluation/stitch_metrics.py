"""Multi-camera identity metrics over global ids.

IDF1 (Ristani et al., 2016) at the level of detections: every detection carries a predicted id
(the stitched visitor of its tracklet) and a true id (the simulated person; none for a false
track). Predicted and true ids are matched one-to-one to maximise the detections they share
(IDTP); IDFP = predicted detections − IDTP, IDFN = true detections − IDTP, and
IDF1 = 2·IDTP / (2·IDTP + IDFP + IDFN). Detections the cameras missed are in neither count:
the metric measures stitching, not detection.

The matching is solved per connected component of the "share a detection" graph with
:func:`scipy.optimize.linear_sum_assignment`, so it stays small for a day of visitors.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment


@dataclass(frozen=True)
class IdScores:
    idf1: float
    idp: float
    idr: float
    idtp: int
    idfp: int
    idfn: int


def id_scores(shared: Iterable[tuple[Hashable, Hashable | None, int]]) -> IdScores:
    """IDF1 from (predicted id, true id or None, detections) triples (repeats add up)."""
    counts: dict[tuple[Hashable, Hashable], int] = defaultdict(int)
    predicted = 0
    true_total = 0
    for pred, true, n in shared:
        predicted += n
        if true is not None:
            true_total += n
            counts[(pred, true)] += n
    # connected components of the bipartite graph (union-find over ids)
    parent: dict[tuple[int, Hashable], tuple[int, Hashable]] = {}

    def find(x: tuple[int, Hashable]) -> tuple[int, Hashable]:
        root = x
        while parent.setdefault(root, root) != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    for pred, true in counts:
        a, b = find((0, pred)), find((1, true))
        if a != b:
            parent[a] = b
    groups: dict[tuple[int, Hashable], list[tuple[Hashable, Hashable, int]]] = defaultdict(list)
    for (pred, true), n in counts.items():
        groups[find((0, pred))].append((pred, true, n))
    idtp = 0
    for edges in groups.values():
        if len(edges) == 1:
            idtp += edges[0][2]
            continue
        preds = {p: i for i, p in enumerate(dict.fromkeys(e[0] for e in edges))}
        trues = {t: i for i, t in enumerate(dict.fromkeys(e[1] for e in edges))}
        m = np.zeros((len(preds), len(trues)))
        for p, t, n in edges:
            m[preds[p], trues[t]] = n
        r, c = linear_sum_assignment(m, maximize=True)
        idtp += int(m[r, c].sum())
    idfp = predicted - idtp
    idfn = true_total - idtp
    denom = 2 * idtp + idfp + idfn
    return IdScores(
        idf1=2 * idtp / denom if denom else 1.0,
        idp=idtp / predicted if predicted else 1.0,
        idr=idtp / true_total if true_total else 1.0,
        idtp=idtp,
        idfp=idfp,
        idfn=idfn,
    )


def relative_error(predicted: float, true: float) -> float:
    """(predicted − true) / true; 0 when both are 0."""
    if true == 0:
        return 0.0 if predicted == 0 else float("inf")
    return (predicted - true) / true
