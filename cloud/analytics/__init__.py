"""Analytics from floor trajectories and the site model.

* :mod:`cloud.analytics.trajectory` -- pure functions: line crossings with hysteresis, zone
  visits with a minimum length (no database; unit-tested on hand-made trajectories).
* :mod:`cloud.analytics.derive` -- re-derives dirty tracks from stored observations and keeps the
  per-minute rollups in step (the service's replacement for continuous aggregates).
* :mod:`cloud.analytics.retention` -- drop_chunks on a schedule.
"""
