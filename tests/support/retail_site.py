"""The demo site as a small mall for the retail tests: its plaza walkway, where the synthetic
walkers stop, is a store (so visitors enter it), and alert rules can be added."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from footfall.site import Site, load_site

DEMO = Path(__file__).resolve().parents[2] / "configs" / "sites" / "demo.yaml"
STORE = "plaza-walkway"


def retail_site(alerts: dict[str, Any] | None = None, timezone: str | None = None) -> Site:
    """demo.yaml with ``plaza-walkway`` of kind store, the given ``alerts:`` section and, when
    given, another time zone."""
    data = load_site(DEMO).model_dump(mode="json")
    if timezone is not None:
        data["site"]["timezone"] = timezone
    for zone in data["zones"]:
        if zone["id"] == STORE:
            zone["kind"] = "store"
    if alerts is not None:
        data["alerts"] = alerts
    return Site.model_validate(data)
