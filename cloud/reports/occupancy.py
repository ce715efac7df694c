"""Site occupancy from entrance lines that does not drift over a day.

People inside = entries − exits on the entrance lines since opening. Every missed or extra
count stays in that running sum, so by evening it can be far off, even below zero (a door
without a counting line, such as a car-park lobby, lets people in uncounted who then leave
through a counted door). The balance, per site-local day, minute by minute
(:class:`footfall.site.reporting.OccupancyRules`):

1. **Clamp**: never fewer than the people the cameras see in the site's zones that minute (the
   zone occupancy from tracks, zones inside others left out), never below zero:
   ``balanced[t] = max(balanced[t-1] + in[t] - out[t], seen[t], 0)``. Clamping resets the sum
   there, so an undercount is not carried on.
2. **Close the day**: at closing time the site is empty; what the sum still holds then is the
   day's drift (``residual``). For a day that has closed, the drift is taken out in proportion
   to the time since opening: ``balanced[t] -= residual · (t - open) / (close - open)``, then
   clamped again (step 1's lower bounds). From closing time on the occupancy is what the
   cameras see. A day still open shows step 1 only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from footfall.site import Site


def top_level_zones(site: Site) -> list[str]:
    """Zones not inside another zone of the same floor (so a person is counted once)."""
    out = []
    for z in site.zones:
        inside = any(
            o.id != z.id and o.floor == z.floor and o.shape().contains(z.shape())
            for o in site.zones
        )
        if not inside:
            out.append(z.id)
    return out


@dataclass(frozen=True)
class Balance:
    minutes: list[datetime]
    raw: list[int]
    """Entries − exits since opening, as counted."""
    balanced: list[int]
    seen: list[int]
    residual: int | None
    """What the raw sum held at closing time (None: the day has not closed)."""


def balance(
    site: Site,
    minutes: Sequence[datetime],
    ins: Sequence[int],
    outs: Sequence[int],
    seen: Sequence[int] | None = None,
) -> Balance:
    """Balance one site-local day of per-minute entries and exits (see the module docstring).

    ``minutes`` are consecutive minute starts (aware) of one site-local day, from opening or
    earlier; counts before opening are left out (the day starts empty)."""
    rules = site.reporting.occupancy
    tz = ZoneInfo(site.site.timezone)
    n = len(minutes)
    seen_a = np.asarray(seen if seen is not None else [0] * n, dtype=np.int64)
    if not n:
        return Balance([], [], [], [], None)
    day = minutes[0].astimezone(tz).date()
    opens = datetime.combine(day, rules.opens_at, tz)
    closes = datetime.combine(day, rules.closes_at, tz)
    if closes <= opens:
        closes += timedelta(days=1)
    t = np.array([(m - opens).total_seconds() for m in minutes])
    open_ = (t >= 0) & (t < (closes - opens).total_seconds())
    delta = np.where(open_, np.asarray(ins) - np.asarray(outs), 0)
    raw = np.cumsum(delta)
    closed = bool((~open_ & (t >= 0)).any())
    residual = int(raw[open_][-1]) if closed and open_.any() else None
    target = raw.astype(float)
    if residual is not None:
        span = (closes - opens).total_seconds()
        target = raw - residual * np.clip(t / span, 0.0, 1.0)
    out = np.zeros(n, dtype=np.int64)
    level = 0.0
    prev_target = 0.0
    for i in range(n):
        if not open_[i]:
            out[i] = seen_a[i]
            level = float(seen_a[i]) if t[i] >= 0 else 0.0
            prev_target = target[i]
            continue
        level = max(level + (target[i] - prev_target), float(seen_a[i]), 0.0)
        prev_target = target[i]
        out[i] = round(level)
    return Balance(list(minutes), raw.astype(int).tolist(), out.tolist(), seen_a.tolist(), residual)
