"""Generate a large site for load tests: a mall of identical wings side by side.

``python -m footfall.simulate.sitegen --wings 16 --out configs/sites/generated/mall_224.yaml``
repeats ``configs/sites/two_floor_mall.yaml`` (14 cameras) 16 times along x (120 m apart),
joined by 8 m walkways on both floors: 224 cameras, 2 floors of 1920 m x 60 m. Ids get a
``-wNN`` suffix. The west entrance of every wing but the first becomes a passage between wings;
where the walkway to the next wing crosses a staff-only zone (the service corridor at the east
end of a wing), that zone is cut in two on either side of the walkway (``-a``, ``-b``), so the
public walkway is never staff-only floor.
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path
from typing import Any

import shapely
import yaml

from footfall.simulate.scenarios import REPO_SITES

WING_M = 120.0
WALKWAY_L0 = shapely.box(112.0, 24.0, 120.0, 36.0)
"""The part of a wing's ground floor the walkway to the next wing covers (wing coordinates)."""


def _shift(point: list[float], dx: float) -> list[float]:
    return [round(point[0] + dx, 2), point[1]]


def _cut(z: dict[str, Any], zone: dict[str, Any], dx: float) -> list[dict[str, Any]]:
    """A staff-only zone less the walkway to the next wing (:data:`WALKWAY_L0`): itself, or its
    parts on either side of the walkway."""
    shape = shapely.Polygon(zone["polygon"])
    if not shape.intersects(WALKWAY_L0) or shape.intersection(WALKWAY_L0).area == 0:
        return [z]
    rest = shape.difference(WALKWAY_L0)
    parts = sorted(getattr(rest, "geoms", [rest]), key=lambda g: (g.bounds[1], g.bounds[0]))
    out = []
    for i, part in enumerate(parts):
        x0, y0, x1, y1 = part.bounds
        box = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
        assert part.equals(shapely.Polygon(box)), f"{zone['id']}: cut into a non-rectangle"
        out.append(
            {
                **z,
                "id": f"{z['id']}-{'ab'[i]}",
                "name": f"{z['name']} ({'north' if i == 0 else 'south'} of the walkway)",
                "polygon": [_shift([float(x), float(y)], dx) for x, y in box],
            }
        )
    return out


def generate(wings: int, base_file: Path = REPO_SITES / "two_floor_mall.yaml") -> dict[str, Any]:
    base = yaml.safe_load(base_file.read_text())
    out: dict[str, Any] = {
        "site": {
            "id": "grand-mall",
            "name": f"Grand Mall ({wings} wings)",
            "timezone": "Europe/Berlin",
        },
        "floors": [{**f, "width_m": WING_M * wings, "name": f["name"]} for f in base["floors"]],
        "cameras": [],
        "zones": [],
        "lines": [],
        "topology": {"links": [], "overlaps": []},
    }
    for w in range(wings):
        dx = WING_M * w

        def sid(name: str, w: int = w) -> str:
            return f"{name}-w{w:02d}"

        for cam in base["cameras"]:
            c = copy.deepcopy(cam)
            c["id"] = sid(cam["id"])
            c["name"] = f"{cam.get('name', cam['id'])} (wing {w})"
            for p in c["homography"]["points"]:
                p["floor"] = _shift(p["floor"], dx)
            out["cameras"].append(c)
        for zone in base["zones"]:
            z = copy.deepcopy(zone)
            z["id"] = sid(zone["id"])
            z["polygon"] = [_shift(p, dx) for p in zone["polygon"]]
            if w > 0 and zone["id"] == "l0-west-entrance":
                z["kind"] = "corridor"
                z["name"] = f"Passage from wing {w - 1}"
            if w < wings - 1 and zone["kind"] == "staff_only" and zone["floor"] == "l0":
                out["zones"] += _cut(z, zone, dx)
                continue
            out["zones"].append(z)
        for line in base["lines"]:
            ln = copy.deepcopy(line)
            ln["id"] = sid(line["id"])
            ln["a"], ln["b"] = _shift(line["a"], dx), _shift(line["b"], dx)
            if "zone" in ln:
                ln["zone"] = sid(line["zone"])
            out["lines"].append(ln)
        for link in base["topology"]["links"]:
            out["topology"]["links"].append(
                {**link, "from": sid(link["from"]), "to": sid(link["to"])}
            )
        for ov in base["topology"]["overlaps"]:
            out["topology"]["overlaps"].append({"cameras": [sid(c) for c in ov["cameras"]]})
        if w > 0:
            prev = w - 1
            for floor, x0, x1 in (("l0", 112.0, 120.0), ("l1", 116.0, 124.0)):
                a, b = dx - WING_M + x0, dx + (x1 - WING_M) if floor == "l0" else dx + 4.0
                out["zones"].append(
                    {
                        "id": f"{floor}-walkway-w{prev:02d}-w{w:02d}",
                        "name": f"Walkway wing {prev} to {w} ({floor})",
                        "floor": floor,
                        "kind": "corridor",
                        "polygon": [[a, 24.0], [b, 24.0], [b, 36.0], [a, 36.0]],
                    }
                )
            out["topology"]["links"] += [
                {
                    "from": f"l0-mall-east-w{prev:02d}",
                    "to": sid("l0-west-entrance"),
                    "min_walk_s": 20,
                    "max_walk_s": 120,
                },
                {
                    "from": f"l1-mall-east-w{prev:02d}",
                    "to": sid("l1-mall-west"),
                    "min_walk_s": 20,
                    "max_walk_s": 150,
                },
            ]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wings", type=int, default=16)
    parser.add_argument("--out", type=Path, default=REPO_SITES / "generated" / "mall_224.yaml")
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    header = (
        f"# Generated by `python -m footfall.simulate.sitegen --wings {args.wings}`: "
        "do not edit by hand.\n"
    )
    body = yaml.safe_dump(generate(args.wings), sort_keys=False, default_flow_style=None, width=100)
    args.out.write_text(header + body)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
