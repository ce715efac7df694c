"""Relinking a new tracker track to a recently lost one by appearance and plausible motion."""

from __future__ import annotations

import itertools

import numpy as np

from edge.relink import Relinker


def _unit(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=64).astype(np.float32)
    return v / np.linalg.norm(v)


def _relinker(**kwargs: float) -> Relinker:
    counter = itertools.count()
    return Relinker(10.0, lambda: f"{next(counter):016x}", **kwargs)


BOX = np.array([[100, 100, 140, 200]], np.float32)


def test_a_person_who_comes_back_keeps_their_id() -> None:
    r = _relinker(max_gap_s=5.0, max_distance=0.2)
    (first,) = r.assign(np.array([1]), BOX, _unit(1)[None], frame=1)
    # hidden for 2 s, back 50 px further under tracker id 7
    (again,) = r.assign(np.array([7]), BOX + np.array([50, 0, 50, 0]), _unit(1)[None], frame=21)
    assert again == first
    assert r.relinked == 1


def test_someone_else_gets_a_new_id() -> None:
    r = _relinker(max_gap_s=5.0, max_distance=0.2)
    (first,) = r.assign(np.array([1]), BOX, _unit(1)[None], frame=1)
    (other,) = r.assign(np.array([7]), BOX, _unit(2)[None], frame=21)
    assert other != first


def test_no_relink_beyond_walking_distance_or_the_gap() -> None:
    r = _relinker(max_gap_s=5.0, max_distance=0.2, max_speed=1.0)
    (first,) = r.assign(np.array([1]), BOX, _unit(1)[None], frame=1)
    # 1 s later but 10 box heights away
    (far,) = r.assign(np.array([2]), BOX + np.array([1000, 0, 1000, 0]), _unit(1)[None], frame=11)
    assert far != first
    r2 = _relinker(max_gap_s=1.0, max_distance=0.2)
    (first2,) = r2.assign(np.array([1]), BOX, _unit(1)[None], frame=1)
    (late,) = r2.assign(np.array([2]), BOX, _unit(1)[None], frame=40)
    assert late != first2


def test_an_active_track_is_never_taken_and_off_means_off() -> None:
    r = _relinker(max_gap_s=5.0, max_distance=0.2)
    ids = r.assign(np.array([1, 2]), np.vstack([BOX, BOX + 200]), np.stack([_unit(1), _unit(1)]), 1)
    assert ids[0] != ids[1]
    off = _relinker(max_gap_s=0.0)
    (a,) = off.assign(np.array([1]), BOX, _unit(1)[None], frame=1)
    (b,) = off.assign(np.array([2]), BOX, _unit(1)[None], frame=3)
    assert a != b
