"""The site's cameras as matrices the stitcher can index: floors, overlaps, walking times.

* ``floor[c]``: floor index of camera c.
* ``overlap[a, b]``: the views of a and b overlap (the site's ``topology.overlaps``), or a == b.
* ``linked[a, b]`` / ``max_walk_s[a, b]``: a walking link from a to b exists (either way if it
  is bidirectional) and how long the walk takes at most: a hand-over between the two views.
* ``min_walk_s[a, b]``: the shortest walk from a to b over links and overlaps (shortest path of
  ``min_walk_s``; overlaps count 0), ``inf`` when no chain of links joins them.
* ``to_image[c]`` / ``size[c]``: camera c's floor → (undistorted) image homography and its frame
  size: :meth:`inside` tells where on a floor someone is in plain view of a camera, and so
  where people can come and go unseen (the edges of the covered floor).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse.csgraph import shortest_path

from footfall.site import Site


@dataclass(frozen=True)
class CameraTopology:
    floor: np.ndarray
    overlap: np.ndarray
    linked: np.ndarray
    max_walk_s: np.ndarray
    min_walk_s: np.ndarray
    to_image: np.ndarray
    size: np.ndarray

    def inside(self, floor: int, xy: np.ndarray, margin: float) -> np.ndarray:
        """Per floor point (N, 2) of floor index ``floor``: in plain view of one of its
        cameras, at least ``margin`` × the frame's width and height inside the frame (there,
        a person does not come or go unseen)."""
        xy = np.asarray(xy, dtype=float).reshape(-1, 2)
        pts = np.column_stack([xy, np.ones(len(xy))])
        cams = self.floor == floor
        img = np.einsum("cij,nj->cni", self.to_image[cams], pts)  # (cameras, points, 3)
        with np.errstate(divide="ignore", invalid="ignore"):
            uv = img[..., :2] / img[..., 2:3]
        size = self.size[cams][:, None, :]
        seen = (
            (img[..., 2] > 0) & (uv >= margin * size).all(-1) & (uv <= (1 - margin) * size).all(-1)
        )
        return np.asarray(seen.any(axis=0))

    @classmethod
    def of(cls, site: Site) -> CameraTopology:
        ids = {c.id: i for i, c in enumerate(site.cameras)}
        n = len(ids)
        floors = {f.id: i for i, f in enumerate(site.floors)}
        floor = np.array([floors[c.floor] for c in site.cameras], dtype=np.int64)
        overlap = np.eye(n, dtype=bool)
        linked = np.eye(n, dtype=bool)
        max_walk = np.zeros((n, n))
        direct = np.full((n, n), np.inf)
        np.fill_diagonal(direct, 0.0)
        for o in site.topology.overlaps:
            a, b = ids[o.cameras[0]], ids[o.cameras[1]]
            overlap[a, b] = overlap[b, a] = True
            linked[a, b] = linked[b, a] = True
            direct[a, b] = direct[b, a] = 0.0
            max_walk[a, b] = max_walk[b, a] = max(max_walk[a, b], 30.0)
        for link in site.topology.links:
            a, b = ids[link.from_camera], ids[link.to_camera]
            pairs = [(a, b), (b, a)] if link.bidirectional else [(a, b)]
            for i, j in pairs:
                linked[i, j] = True
                max_walk[i, j] = max(max_walk[i, j], link.max_walk_s)
                direct[i, j] = min(direct[i, j], link.min_walk_s)
        graph = np.where(np.isfinite(direct), direct, 0.0)
        # csgraph treats 0 as "no edge": give zero-time edges a tiny weight instead
        graph = np.where(np.isfinite(direct) & (direct == 0) & ~np.eye(n, dtype=bool), 1e-6, graph)
        min_walk = shortest_path(graph, method="D", directed=True) if n else np.zeros((0, 0))
        to_image = np.array(
            [np.linalg.inv(c.homography()) for c in site.cameras], dtype=float
        ).reshape(n, 3, 3)
        size = np.array([c.resolution for c in site.cameras], dtype=float).reshape(n, 2)
        return cls(floor, overlap, linked, max_walk, min_walk, to_image, size)
