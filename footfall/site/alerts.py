"""Alert rules of a site (its config's ``alerts:`` section) and the webhooks they are sent to.

Three kinds of rule, each optional:

- ``occupancy``: a zone holds more people than its capacity (fires at ``capacity``, clears when
  it is back at or below ``clear_below`` of it, so a crowd at the limit does not flap);
- ``entrances``: the entries of the last full hour are far from their usual level for that hour
  and weekday (the mean of the same hour on the same weekday over the past ``weeks`` weeks);
- ``cameras``: a camera sent no heartbeat for ``silent_minutes`` or reported degraded/error
  for ``degraded_minutes``.

Webhooks get every fired and cleared alert as JSON, signed with HMAC-SHA256 over the body with
a secret read from the environment variable ``secret_env`` (never written in the config).
"""

from __future__ import annotations

from pydantic import Field, field_validator

from footfall.site.base import Float, Int, SiteModel, Slug, Text


class OccupancyAlert(SiteModel):
    """A zone above its capacity."""

    zone: Slug = Field(description="Id of the zone watched.")
    capacity: Int = Field(ge=1, le=1_000_000, description="People the zone may hold.")
    clear_below: Float = Field(
        default=0.9,
        gt=0.0,
        le=1.0,
        description="The alert clears when occupancy is at or below this share of capacity.",
    )


class EntranceAlert(SiteModel):
    """Entries of the last full hour far from their usual level for that hour and weekday."""

    weeks: Int = Field(
        default=4, ge=1, le=52, description="Past weeks whose same weekday and hour make 'usual'."
    )
    tolerance: Float = Field(
        default=0.5,
        gt=0.0,
        le=10.0,
        description="Fires when |entries - usual| > tolerance × usual (0.5: half above or below).",
    )
    min_usual: Int = Field(
        default=20,
        ge=0,
        description="Hours whose usual level is below this many entries are not judged.",
    )


class CameraAlert(SiteModel):
    """A camera silent (no heartbeat) or degraded for a while."""

    silent_minutes: Float = Field(
        default=5.0, gt=0.0, le=10_080.0, description="Minutes without a heartbeat."
    )
    degraded_minutes: Float = Field(
        default=10.0,
        gt=0.0,
        le=10_080.0,
        description="Minutes of degraded or error heartbeats in a row.",
    )


class Webhook(SiteModel):
    """Where fired and cleared alerts are sent (HTTP POST, JSON, HMAC-SHA256 signed)."""

    name: Slug = Field(description="Name of this webhook (slug), used in logs and the outbox.")
    url: Text = Field(description="http:// or https:// address that receives the POSTs.")
    secret_env: Text = Field(
        pattern=r"^[A-Z_][A-Z0-9_]{0,127}$",
        description="Name of the environment variable that holds the signing secret.",
    )

    @field_validator("url")
    @classmethod
    def _http(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"webhook url {value!r} must start with http:// or https://")
        return value


class AlertRules(SiteModel):
    """The site's alert rules and webhooks (all optional; none: no alerts)."""

    occupancy: list[OccupancyAlert] = Field(
        default_factory=list, description="Zones with a capacity."
    )
    entrances: EntranceAlert | None = Field(
        default=None, description="Entries far from usual (left out: not watched)."
    )
    cameras: CameraAlert | None = Field(
        default=None, description="Silent or degraded cameras (left out: not watched)."
    )
    webhooks: list[Webhook] = Field(
        default_factory=list, max_length=20, description="Receivers of every alert."
    )


def alert_problems(rules: AlertRules, zone_ids: list[str]) -> list[str]:
    """What in ``rules`` names something the site lacks (empty when all is well)."""
    problems = []
    for i, rule in enumerate(rules.occupancy):
        if rule.zone not in zone_ids:
            problems.append(
                f"alerts.occupancy[{i}]: zone {rule.zone!r} is not a zone of this site; "
                f"use one of {', '.join(zone_ids) or '(no zones)'}"
            )
    names = [w.name for w in rules.webhooks]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"alerts.webhooks: the name {name!r} is used twice; give each its own")
    return problems
