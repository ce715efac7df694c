"""A multi-camera mall simulator with ground truth (``footfall simulate``).

People arrive along a daily arrival curve, walk goal-directed paths through the site's zones
(corridors, escalators, stores with dwell times), come in groups, sometimes leave and come back;
staff stay for hours. Cameras with fields of view on the floor plan observe them and emit the
edge's contract messages with realistic errors, and the ground truth is kept alongside.

Imports only the wire contract, the site model, numpy and shapely (an import-linter contract
keeps it from the edge and the cloud), so it runs on the base install.
"""

from footfall.simulate.scenarios import SCENARIOS, Errors, Scenario, scenario, with_overrides
from footfall.simulate.sim import Simulation
from footfall.simulate.truth import Truth

__all__ = [
    "SCENARIOS",
    "Errors",
    "Scenario",
    "Simulation",
    "Truth",
    "scenario",
    "with_overrides",
]
