"""Heatmap grid per bucket (JSON), and a PNG drawn over the floor (plan)."""

from __future__ import annotations

import io
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from cloud.api import models, queries
from cloud.api.deps import PNG, AuthorisedSite, Db, PNGResponse, Range, State
from cloud.api.params import TimeRange, unprocessable
from footfall.site import Site

router = APIRouter(tags=["heatmap"])

Floor = Annotated[str | None, Query(description="Floor id (default: the first floor).")]
Cell = Annotated[
    float | None,
    Query(
        gt=0,
        le=100,
        allow_inf_nan=False,
        description="Cell size in metres, a whole multiple of the base cell (up to 100 m).",
    ),
]


def _grid(
    state: State, site: AuthorisedSite, floor: str | None, cell_m: float | None
) -> tuple[str, float, int]:
    floor_id = floor or site.floors[0].id
    if floor_id not in {f.id for f in site.floors}:
        raise unprocessable(
            f"floor {floor_id!r} is not in site {site.id!r}; valid: "
            + ", ".join(f.id for f in site.floors)
        )
    base = site.counting.heatmap_cell_m  # the cell ingest stored (rules recorded with the data)
    cell = cell_m or base
    factor = round(cell / base)
    if factor < 1 or abs(factor * base - cell) > 1e-9:
        raise unprocessable(f"cell_m={cell_m} must be a whole multiple of the base cell {base} m")
    return floor_id, cell, factor


@router.get(
    "/heatmap",
    response_model=models.Heatmap,
    summary="Observations per grid cell and bucket",
)
async def heatmap(
    state: State,
    site: AuthorisedSite,
    db: Db,
    r: Range,
    floor: Floor = None,
    cell_m: Cell = None,
) -> JSONResponse:
    floor_id, cell, factor = _grid(state, site, floor, cell_m)
    buckets: dict[str, list[list[int]]] = {}
    for row in await db.run(queries.heatmap, site.id, floor_id, r, factor):
        key = row["bucket"].astimezone(r.tz).isoformat()
        buckets.setdefault(key, []).append([row["cx"], row["cy"], int(row["samples"])])
    return JSONResponse(
        {
            "floor": floor_id,
            "cell_m": cell,
            "timezone": r.tz.key,
            "cells": "[cell_x, cell_y, samples]; cell x covers [x*cell_m, (x+1)*cell_m)",
            "buckets": buckets,
        }
    )


@router.get(
    "/heatmap.png",
    summary="Heatmap of the whole range drawn over the floor",
    responses=PNG,
)
async def heatmap_png(
    state: State,
    site: AuthorisedSite,
    db: Db,
    r: Range,
    floor: Floor = None,
    cell_m: Cell = None,
) -> Response:
    floor_id, cell, factor = _grid(state, site, floor, cell_m)
    rows = await db.run(queries.heatmap, site.id, floor_id, r, factor)
    png = await run_in_threadpool(_draw, site, floor_id, cell, rows, r)
    return PNGResponse(png)


def _draw(
    site: Site, floor_id: str, cell: float, rows: list[dict[str, Any]], r: TimeRange
) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    fl = site.floor(floor_id)
    nx, ny = int(np.ceil(fl.width_m / cell)), int(np.ceil(fl.depth_m / cell))
    grid = np.zeros((ny, nx))
    for row in rows:
        if 0 <= row["cx"] < nx and 0 <= row["cy"] < ny:
            grid[row["cy"], row["cx"]] += row["samples"]
    fig, ax = plt.subplots(figsize=(8, 8 * fl.depth_m / fl.width_m + 0.5), dpi=100)
    if fl.plan is not None:
        ax.imshow(plt.imread(fl.plan.image), extent=(0, fl.width_m, fl.depth_m, 0))
    ax.imshow(
        np.ma.masked_equal(grid, 0), extent=(0, nx * cell, ny * cell, 0), cmap="inferno", alpha=0.7
    )
    for z in site.zones_on(floor_id):
        xs, ys = zip(*[*z.polygon, z.polygon[0]], strict=True)
        ax.plot(xs, ys, color="cyan", linewidth=0.8)
    ax.set_xlim(0, fl.width_m)
    ax.set_ylim(fl.depth_m, 0)
    ax.set_title(f"{site.id} {floor_id} {r.start:%Y-%m-%d %H:%M} – {r.end:%Y-%m-%d %H:%M}")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()
