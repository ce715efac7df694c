"""The site model: ``configs/sites/*.yaml`` → strict pydantic models, with located errors.

``load_site(path)`` returns a :class:`Site` or raises :class:`SiteConfigError` listing every
:class:`Problem` (file, line, column, path, message, fix).
"""

from footfall.site.base import SLUG_PATTERN
from footfall.site.camera import (
    MAX_MEAN_ERROR_M,
    Camera,
    Correspondence,
    Distortion,
    DistortionModel,
    Homography,
)
from footfall.site.errors import Problem, SiteConfigError
from footfall.site.floor import Floor, FloorPlan
from footfall.site.geometry import DegenerateError, apply_homography, fit_homography
from footfall.site.line import CountingLine, Side
from footfall.site.loader import check_site, load_site
from footfall.site.rules import CountingRules
from footfall.site.site import Site, SiteInfo
from footfall.site.topology import Link, Overlap, Topology
from footfall.site.zone import Zone, ZoneKind

__all__ = [
    "MAX_MEAN_ERROR_M",
    "SLUG_PATTERN",
    "Camera",
    "Correspondence",
    "CountingLine",
    "CountingRules",
    "DegenerateError",
    "Distortion",
    "DistortionModel",
    "Floor",
    "FloorPlan",
    "Homography",
    "Link",
    "Overlap",
    "Problem",
    "Side",
    "Site",
    "SiteConfigError",
    "SiteInfo",
    "Topology",
    "Zone",
    "ZoneKind",
    "apply_homography",
    "check_site",
    "fit_homography",
    "load_site",
]
